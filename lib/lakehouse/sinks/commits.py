"""Which commit a write made, when other writers commit to the same table meanwhile.

A write's commit is not simply the table's next version: OPTIMIZE, VACUUM or another job may commit
just before or after it. It is found in the log, on the driver (no Spark job), among the commits
after the version read before the write: the one holding the write's transaction id and user
metadata, or, for a write without a transaction id, the first of its operation with its metadata.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class Commit:
    """One commit of a Delta table, as its log entry says."""

    version: int
    operation: str
    user_metadata: Optional[str]
    txns: frozenset = frozenset()       # (app id, version) of its transaction identifiers
    metrics: Mapping[str, str] = field(default_factory=dict)

    def metric(self, name: str) -> int:
        return int(self.metrics.get(name, 0))


def metadata_json(user_metadata: Optional[Mapping[str, object]]) -> Optional[str]:
    """User metadata as stored in a commit (the form `own_commit` compares)."""
    return None if user_metadata is None else json.dumps(user_metadata, sort_keys=True, default=str)


def own_commit(spark, path: str, before: int, operation: str, txn=None,
               user_metadata: Optional[Mapping[str, object]] = None) -> Optional[Commit]:
    """The commit this write made after version `before`, or None when it made none (Delta skipped
    it as already committed).

    Args:
        operation: the write's operation in the log (MERGE, WRITE), for writes without `txn`.
        txn: the write's lakehouse.sinks.delta.Txn, if it had one.
    """
    metadata = metadata_json(user_metadata)
    for commit in commits_after(spark, path, before):
        if commit.user_metadata != metadata:
            continue
        if txn is not None and (txn.app_id, txn.version) in commit.txns:
            return commit
        if txn is None and commit.operation == operation:
            return commit
    return None


def txn_commit(spark, path: str, latest: int, app_id: str, version: int,
               windows: tuple[int, ...] = (1, 16)) -> Optional[Commit]:
    """The commit of transaction (`app_id`, `version`) among the table's last commits up to `latest`,
    looked for in the last `windows[0]` commits, then the last `windows[1]`...; None beyond them."""
    searched = latest + 1
    for window in windows:
        start = max(0, latest + 1 - window)
        if start >= searched:
            continue
        for commit in reversed(commits_after(spark, path, start - 1)):
            if commit.version < searched and (app_id, version) in commit.txns:
                return commit
        searched = start
    return None


def commits_after(spark, path: str, before: int) -> list[Commit]:
    """The table's commits after version `before`, oldest first, read from its log files (a commit's
    metrics taken as one JSON text: converted entry by entry, they took a call into the JVM each)."""
    jvm = spark.sparkContext._jvm
    delta_log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    to_json = jvm.org.apache.spark.sql.delta.util.JsonUtils.mapper().writeValueAsString
    found = []
    changes = delta_log.getChanges(before + 1, False)
    while changes.hasNext():
        pair = changes.next()
        operation, metadata, metrics, txns = "", None, {}, set()
        actions = pair._2().iterator()
        while actions.hasNext():
            action = actions.next()
            kind = action.getClass().getSimpleName()
            if kind == "SetTransaction":
                txns.add((action.appId(), int(action.version())))
            elif kind == "CommitInfo":
                operation = action.operation()
                metadata = action.userMetadata().get() if action.userMetadata().isDefined() else None
                if action.operationMetrics().isDefined():
                    metrics = json.loads(to_json(action.operationMetrics().get()))
        found.append(Commit(int(pair._1()), operation, metadata, frozenset(txns), metrics))
    return found
