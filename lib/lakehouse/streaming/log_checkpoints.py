"""Writes bronze's Delta log checkpoints on a thread of their own, not inside the batch that commits.

Delta writes a table's checkpoint in the commit of every version that is a multiple of the table's
`delta.checkpointInterval` (10 by default), in the committing thread. Bronze's micro-batches read no
state of their own (lakehouse.streaming.bronze_sink), so that one batch in ten held freshness back
(README, "Catch-up and freshness"). Bronze's commits leave Delta's checkpoint hook out
(`append_once(..., checkpoint=False)`) and report their version here; `LogCheckpointer` writes the
checkpoint Delta would have written, at the table's interval, on its worker thread while the next
batches run. (Such a commit still rebuilds the new version's state for its statistics, as Delta does
for any version due a checkpoint; the worker then finds it built.) Other writers of the table
(OPTIMIZE, an erasure) keep Delta's own. `close` lets the checkpoints still queued be written.
"""
from __future__ import annotations

import logging
import queue
import threading
from typing import Optional

from lakehouse.lineage.skip import unreported

log = logging.getLogger("lakehouse.streaming")
CLOSE_WAIT_S = 120.0


class LogCheckpointer:
    """`committed(path, version)` after each commit that left Delta's checkpoint out; a checkpoint of the
    table's latest version is written when one is due (a multiple of its interval reached since the last)."""

    def __init__(self, spark):
        self.session = spark
        self._written: dict[str, int] = {}  # path -> the newest version checkpointed or queued
        self._pending: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self._worker: Optional[threading.Thread] = None

    def committed(self, path: str, version: int) -> None:
        snapshot = self._delta_log(path).unsafeVolatileSnapshot()
        interval = int(snapshot.deltaLog().checkpointInterval(snapshot.metadata()))
        with self._lock:
            if self._closed:
                return
            last = self._written.get(path)
            if last is None:  # the table's newest checkpoint, -1 for none
                last = int(snapshot.checkpointProvider().version())
            if version // interval <= max(last, 0) // interval:
                self._written[path] = last
                return
            self._written[path] = version
            self._pending.put(path)
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="lakehouse-log-checkpoints", daemon=True)
                self._worker.start()

    def close(self) -> None:
        """Writes the checkpoints still queued, then stops the worker; safe to call twice."""
        with self._lock:
            self._closed = True
            worker = self._worker
        if worker is None:
            return
        self._pending.put(None)
        worker.join(CLOSE_WAIT_S)
        if worker.is_alive():
            log.warning("a Delta log checkpoint still running %.0fs after its run stopped; left to finish",
                        CLOSE_WAIT_S)

    def _work(self) -> None:
        with unreported(self.session):  # Delta's own reads and writes of its log: nothing for lineage
            while True:
                path = self._pending.get()
                if path is None:
                    return
                try:
                    self._delta_log(path).checkpoint()  # the latest version: at or past the one due
                except Exception as exc:  # as Delta's own: a failed checkpoint fails no commit
                    log.warning("Delta log checkpoint of %s failed (the next one due is written): %s", path,
                                str(exc).strip().splitlines()[0] if str(exc).strip() else exc)

    def _delta_log(self, path: str):
        jvm = self.session.sparkContext._jvm
        return jvm.org.apache.spark.sql.delta.DeltaLog.forTable(self.session._jsparkSession, path)
