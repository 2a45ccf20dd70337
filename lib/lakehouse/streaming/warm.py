"""Builds an always-on query's Delta tables' state between micro-batches instead of inside the next one.

Every bronze and silver write carries a transaction id (exactly once), and Delta 3.3's write reads a
table's transaction ids from a full reconstruction of its state at its latest version: Spark jobs and
driver work (0.9 s per table on 2 cores), although the table's `.crc` holds them (our own checks read
them there: lakehouse.sinks.delta.last_txn_version). Reads of the table (the MERGE's file listing,
the velocity look-up) need that same state. A processing-time query's next
batch waits for its trigger, so once a batch has committed (its progress event) `SnapshotWarmer`
reconstructs the state of the query's tables, on a thread of its own, when no Spark job runs (not to
take cores from a batch under way; a batch's driver work before its first job is not seen): the next
batch finds it built, as long as no other writer commits to the table in between. Available-now runs
are not watched: their batches follow each other at once, with no idle time to use.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from typing import Optional

from lakehouse.lineage.skip import unreported
from lakehouse.sinks.delta import build_latest_state
from lakehouse.streaming.events import JsonProgressListener

log = logging.getLogger("lakehouse.streaming")
WARM_TAG = "lakehouse-snapshot-warm"  # the warm-ups' Spark jobs, cancelled when the run stops
CLOSE_WAIT_S = 30.0
IDLE_POLL_S = 0.05


class SnapshotWarmer(JsonProgressListener):
    """A streaming query listener: after each batch with rows of a watched query, builds the latest state
    of the query's tables (`watch`) on its worker thread, one table at a time. `close` stops it."""

    def __init__(self, spark):
        self.session = spark
        self.watched: dict[str, tuple[str, ...]] = {}
        self._pending: queue.Queue = queue.Queue()
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._worker: Optional[threading.Thread] = None

    def watch(self, query_name: str, paths: Sequence[str]) -> None:
        self.watched[query_name] = tuple(paths)

    def onQueryStarted(self, event) -> None:
        pass

    def onQueryProgress(self, event) -> None:
        progress = event.progress
        paths = self.watched.get(progress.name)
        if not paths or not progress.numInputRows:
            return
        with self._lock:
            if self._closed.is_set():
                return
            for path in paths:
                if path not in self._queued:  # not queued twice while the worker is behind
                    self._queued.add(path)
                    self._pending.put(path)
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="lakehouse-snapshot-warmer", daemon=True)
                self._worker.start()

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass

    def close(self) -> None:
        """Stops the worker, cancelling a warm-up under way; safe to call twice."""
        with self._lock:
            self._closed.set()
            worker = self._worker
        if worker is None:
            return
        self._pending.put(None)
        self.session.sparkContext.cancelJobsWithTag(WARM_TAG)
        worker.join(CLOSE_WAIT_S)
        if worker.is_alive():
            log.warning("snapshot warm-up still running %.0fs after its run stopped; left to finish", CLOSE_WAIT_S)

    def _work(self) -> None:
        context = self.session.sparkContext
        context.addJobTag(WARM_TAG)
        with unreported(self.session):  # Delta's own reads of its log: nothing for lineage
            while True:
                path = self._pending.get()
                if path is None:
                    return
                try:
                    if not self._idle():
                        return
                    with self._lock:
                        self._queued.discard(path)
                    build_latest_state(self.session, path)
                except Exception as exc:  # the next batch reconstructs it itself; the worker goes on
                    with self._lock:
                        self._queued.discard(path)
                    if not self._closed.is_set():
                        log.warning("snapshot warm-up of %s failed (the next batch builds it): %s",
                                    path, str(exc).strip().splitlines()[0] if str(exc).strip() else exc)

    def _idle(self) -> bool:
        """Waits until no Spark job runs; False if the warmer was closed meanwhile."""
        tracker = self.session.sparkContext.statusTracker()
        while tracker.getActiveJobsIds():
            if self._closed.wait(IDLE_POLL_S):
                return False
        return not self._closed.is_set()
