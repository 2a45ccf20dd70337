"""The queries of one job run and the checkpoint locks they hold: wait for them, or stop them all."""
from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Callable, Optional

from pyspark.errors import StreamingQueryException

from lakehouse.ops.metrics import NoMetrics
from lakehouse.streaming.conflicts import is_commit_conflict
from lakehouse.streaming.lineage import QueryLineage
from lakehouse.streaming.log_checkpoints import LogCheckpointer
from lakehouse.streaming.metrics import MetricsListener
from lakehouse.streaming.progress import ProgressLogger
from lakehouse.streaming.warm import SnapshotWarmer

log = logging.getLogger(__name__)

POLL_S = 2.0
RESTARTS = 5             # restarts of one query in a row, without a trigger completed in between
RESTART_BACKOFF_S = 1.0  # before the first of them; doubled for each next one


class QueriesFailedError(RuntimeError):
    """Queries of the run failed; the others ran on to their end."""


class StreamingRun:
    """Started queries plus their locks and metrics. `wait` returns when the run is over; `stop` ends it.

    A query started through `start` is started again from its checkpoint, by `wait`, when it failed on
    a commit conflict (at most RESTARTS times in a row, counted as the QueryRestarts metric): same
    query id, new run id. `metrics` (a lakehouse.ops.metrics publisher) is closed, so flushed, by
    `stop`; `lineage` ends the queries' OpenLineage runs there too. `snapshot_warmer` builds the
    tables' state between an always-on query's batches (lakehouse.streaming.warm); `log_checkpoints`
    writes bronze's log checkpoints beside its batches (lakehouse.streaming.log_checkpoints). `stop` may
    be called from another thread while `wait` runs."""

    def __init__(self, spark, cfg, metrics=None):
        self.spark = spark
        self.lineage = QueryLineage(spark, cfg)
        self.queries: list = []
        self.locks: list = []
        self.metrics = metrics or NoMetrics()
        self.metrics_listener = MetricsListener(self.metrics)
        self.snapshot_warmer = SnapshotWarmer(spark)
        self.log_checkpoints = LogCheckpointer(spark)
        self.listeners: list = [ProgressLogger(), self.metrics_listener, self.snapshot_warmer]
        for listener in self.listeners:
            spark.streams.addListener(listener)
        self.restarts: dict[str, int] = {}  # query name -> restarts in this run
        self._in_a_row: dict[str, int] = {}
        self._starts: dict[str, Callable] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._deferred: Optional[list[Callable]] = None

    def start(self, start: Callable):
        """Starts a query with `start` (no arguments, returns the started query), keeps both and returns
        the query; inside `starts_deferred`, starts it when that block ends and returns None."""
        if self._deferred is not None:
            self._deferred.append(start)
            return None
        query = start()
        self._starts[query.name] = start
        self.queries.append(query)
        return query

    @contextlib.contextmanager
    def starts_deferred(self) -> Iterator[None]:
        """Queries `start`ed inside start, in order, once the block ends without an error and the run was
        not stopped meanwhile: the start-ups inside end before any query's micro-batches compete with
        them for the cores."""
        deferred = self._deferred = []
        try:
            yield
        finally:
            self._deferred = None
        for start in deferred:
            if self.stopped:
                return
            self.start(start)

    @property
    def stopped(self) -> bool:
        """`stop` was called (from any thread): no query should be started in this run any more."""
        return self._stopping.is_set()

    def wait(self, until_all_done: bool, end: bool = True) -> None:
        """Blocks until every query is over (available-now), or until one is stopped (processing-time).

        A query that fails on a commit conflict is started again. Another failure does not stop the
        other queries: its error is logged when it fails, and once the run is over QueriesFailedError
        names every query that failed. The run is stopped (locks released) on return, unless `end` is
        False and no query failed: then more queries may be started in it and waited for.
        """
        reported: set = set()
        try:
            while True:
                self._restart_conflicted()
                active = [q for q in self.queries if q.isActive]
                failed = [q for q in self.queries if not q.isActive and q.exception() is not None]
                for query in failed:
                    if query.runId not in reported:
                        reported.add(query.runId)
                        log.error("%s failed; the job's other queries run on: %s", query.name,
                                  _first_line(query.exception()))
                stopped = len(self.queries) - len(active) - len(failed)
                if not active or (stopped and not until_all_done) or self._stopping.is_set():
                    break
                with contextlib.suppress(StreamingQueryException):  # it failed: seen on the next round
                    active[0].awaitTermination(POLL_S)
        except BaseException:
            self.stop()
            raise
        if end or failed:
            self.stop()
        if failed:
            names = "; ".join(f"{q.name}: {_first_line(q.exception())}" for q in failed)
            raise QueriesFailedError(f"{len(failed)} of {len(self.queries)} queries failed: {names}") \
                from failed[0].exception()

    def stop(self) -> None:
        """Stops every query still running and releases the checkpoint locks; safe to call twice."""
        with self._lock:
            self._stopping.set()
            for query in self.queries:
                if query.isActive:
                    query.stop()
            for lock in self.locks:
                lock.release()
            self.locks = []
            self.lineage.finish(self.queries)
            if self.listeners:
                self.metrics_listener.catch_up(self.queries)
            for listener in self.listeners:
                self.spark.streams.removeListener(listener)
            self.listeners = []
            self.snapshot_warmer.close()
            self.log_checkpoints.close()
            self.metrics.close()
            self.metrics = NoMetrics()

    def _restart_conflicted(self) -> None:
        for index, query in enumerate(self.queries):
            if query.isActive or query.name not in self._starts or not is_commit_conflict(query.exception()):
                continue
            if query.lastProgress is not None:  # this run got through a trigger: a new conflict
                self._in_a_row[query.name] = 0
            done = self._in_a_row.get(query.name, 0)
            if done >= RESTARTS:
                log.error("%s: %d restarts in a row all failed on commit conflicts: not restarted again",
                          query.name, done)
                del self._starts[query.name]  # reported as failed from now on
                continue
            delay = RESTART_BACKOFF_S * 2 ** done
            log.warning("%s failed on a commit conflict (%s): restart %d of at most %d in a row from its "
                        "checkpoint in %.0fs", query.name, _first_line(query.exception()), done + 1, RESTARTS, delay)
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._in_a_row[query.name] = done + 1
                self.restarts[query.name] = self.restarts.get(query.name, 0) + 1
                self.metrics.emit("QueryRestarts", 1, **self.metrics_listener.watched.get(query.name, {}))
                self.queries[index] = self._starts[query.name]()


def _first_line(error) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
