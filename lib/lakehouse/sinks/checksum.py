"""A table's transaction ids as its checksum files list them: no Spark job, unlike its state.

Delta 3.3 writes every app id's last version (`setTransactions`) into each commit's checksum file
(`<version>.crc`), but reads a snapshot's transaction ids only from its state: Spark jobs over the
checkpoint and the commits after it (about 6 s in a new driver). A writer killed between its commit
and that file leaves the newest version without one; the newest file before it, updated with the
`txn` actions of the commits after it, lists the same ids (Delta derives its own files that way).
"""
from __future__ import annotations

from typing import Optional

from lakehouse.sinks.commits import commits_after

TXN_RETENTION = "delta.setTransactionRetentionDuration"
LOOKBACK = 10  # commits without a checksum file read at most; beyond them the state answers


def listed_transactions(spark, path: str, snapshot) -> Optional[dict[str, int]]:
    """Each app id's last version at `snapshot` (the table's JVM snapshot), from the newest checksum file
    within LOOKBACK versions and the commits after it; None when no such file lists them (more app ids
    than Delta lists there) or the table has a retention for transaction ids (the state drops expired
    ones, the list may not)."""
    if snapshot.metadata().configuration().contains(TXN_RETENTION):
        return None
    version = int(snapshot.version())
    listed_at, checksum = version, snapshot.checksumOpt()
    none = spark.sparkContext._jvm.scala.Option.empty()
    while not checksum.isDefined() and listed_at > max(0, version - LOOKBACK):
        listed_at -= 1
        checksum = snapshot.deltaLog().readChecksum(listed_at, none)
    if not checksum.isDefined() or not checksum.get().setTransactions().isDefined():
        return None
    found, txns = {}, checksum.get().setTransactions().get().iterator()
    while txns.hasNext():
        txn = txns.next()
        found[txn.appId()] = int(txn.version())
    if listed_at < version:
        for commit in commits_after(spark, path, listed_at):
            if commit.version <= version:
                found.update(commit.txns)
    return found
