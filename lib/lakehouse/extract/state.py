"""The extract's state lives in the target table's Delta log, in the very commit that wrote the data.

Each extract commit carries a Delta transaction identifier (app id: the extract; version: a
counter) and, in the same commit's user metadata, the position reached. A crash before that
commit leaves the old position with the old data; a crash after it leaves the new position with
the new data: there is no moment where one is saved without the other. The counter also makes
the commit a compare-and-set: two runs that started from the same state cannot both commit.

Reading the state means finding the newest commit that holds this extract's transaction
identifier. It reads a few JSON files of the log on the driver (no Spark job), newest first.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Optional

from lakehouse.extract.identifiers import SourceTable
from lakehouse.extract.literals import LiteralError
from lakehouse.extract.position import Position, decode, encode
from lakehouse.sinks.delta import last_txn_version

log = logging.getLogger(__name__)

METADATA_KEY = "postgres_extract"
SEARCH_WINDOWS = (10, 200, None)  # commits searched, newest first; None: the whole remaining log


class StateError(RuntimeError):
    """The stored state cannot be trusted; nothing was read or written."""


@dataclass(frozen=True)
class CommittedState:
    """What the last committed run left: its transaction version and position (None: never ran)."""

    txn_version: Optional[int] = None
    position: Optional[Position] = None
    table_version: Optional[int] = None

    @property
    def next_txn_version(self) -> int:
        return 0 if self.txn_version is None else self.txn_version + 1


def app_id(table: SourceTable) -> str:
    return f"lakehouse-postgres-extract:{table.schema}.{table.table}"


def commit_metadata(app: str, txn_version: int, mode: str, position: Optional[Position],
                    table: SourceTable, **details: Any) -> dict[str, Any]:
    """The user metadata of an extract commit: the position reached, and what the run did."""
    stored = None if position is None else encode(position, table)
    return {METADATA_KEY: {"app_id": app, "txn_version": txn_version, "mode": mode, "position": stored, **details}}


def read_state(spark, path: str, app: str, table: SourceTable) -> CommittedState:
    """The newest committed state of extract `app` on the Delta table at `path`."""
    delta_log = _delta_log(spark, path)
    if delta_log is None:
        return CommittedState()
    latest = _latest_version(spark, delta_log)
    found = None
    for window in SEARCH_WINDOWS:
        start = 0 if window is None else max(latest - window + 1, 0)
        found = _newest_commit_with(delta_log, start, app)
        if found is not None or start == 0:
            break
    if found is None:
        txn_version = last_txn_version(spark, path, app)
        if txn_version is not None:  # the commit file is gone (log retention); the identifier lives on
            log.warning("%s: the commit holding the position of %s was removed from the log; this run "
                        "re-reads from the start (the merge makes that safe)", path, app)
        return CommittedState(txn_version=txn_version)
    version, txn_version, metadata = found
    return CommittedState(txn_version, _position_from(metadata, app, txn_version, table, path, version), version)


def table_version(spark, path: str) -> Optional[int]:
    """The table's latest version (None: not a Delta table), read from the log on the driver."""
    delta_log = _delta_log(spark, path)
    return None if delta_log is None else _latest_version(spark, delta_log)


def _delta_log(spark, path: str):
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return spark.sparkContext._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)


def _latest_version(spark, delta_log) -> int:
    none = spark.sparkContext._jvm.scala.Option.empty()
    return int(delta_log.update(False, none, none).version())


def _newest_commit_with(delta_log, start: int, app: str) -> Optional[tuple[int, int, Optional[str]]]:
    """(table version, transaction version, user metadata) of the newest commit from `start` holding `app`."""
    newest = None
    changes = delta_log.getChanges(start, False)
    while changes.hasNext():
        pair = changes.next()
        txn_version, metadata = None, None
        actions = pair._2().iterator()
        while actions.hasNext():
            action = actions.next()
            kind = action.getClass().getSimpleName()
            if kind == "SetTransaction" and action.appId() == app:
                txn_version = int(action.version())
            elif kind == "CommitInfo" and action.userMetadata().isDefined():
                metadata = action.userMetadata().get()
        if txn_version is not None:
            newest = (int(pair._1()), txn_version, metadata)
    return newest


def _position_from(metadata: Optional[str], app: str, txn_version: int, table: SourceTable,
                   path: str, version: int) -> Optional[Position]:
    where = f"commit {version} of {path}"
    try:
        stored = json.loads(metadata)[METADATA_KEY] if metadata else None
    except (ValueError, TypeError, KeyError):
        stored = None
    if not isinstance(stored, dict) or stored.get("app_id") != app or stored.get("txn_version") != txn_version:
        raise StateError(f"{where} holds transaction {app}/{txn_version} but not its position metadata; "
                         "inspect the table history, then run --mode full-refresh to start over")
    if stored.get("position") is None:
        return None
    try:
        return decode(stored["position"], table)
    except LiteralError as exc:
        raise StateError(f"{where}: stored position refused ({exc}); run --mode full-refresh to start over") from None
