"""The queries of one job run and the checkpoint locks they hold: wait for them, or stop them all."""
from __future__ import annotations

import logging

from lakehouse.ops.metrics import NoMetrics
from lakehouse.streaming.lineage import QueryLineage
from lakehouse.streaming.metrics import MetricsListener
from lakehouse.streaming.progress import ProgressLogger

log = logging.getLogger(__name__)

POLL_S = 2.0


class QueriesFailedError(RuntimeError):
    """Queries of the run failed; the others ran on to their end."""


class StreamingRun:
    """Started queries plus their locks and metrics. `wait` returns when the run is over; `stop` ends it.

    `metrics` (a lakehouse.ops.metrics publisher) is closed, so flushed, by `stop`; `lineage` ends the
    queries' OpenLineage runs there too."""

    def __init__(self, spark, cfg, metrics=None):
        self.spark = spark
        self.lineage = QueryLineage(spark, cfg)
        self.queries: list = []
        self.locks: list = []
        self.metrics = metrics or NoMetrics()
        self.metrics_listener = MetricsListener(self.metrics)
        self.listeners: list = [ProgressLogger(), self.metrics_listener]
        for listener in self.listeners:
            spark.streams.addListener(listener)

    def wait(self, until_all_done: bool) -> None:
        """Blocks until every query is over (available-now), or until one is stopped (processing-time).

        A query that fails does not stop the others: its error is logged when it fails, and once
        the run is over QueriesFailedError names every query that failed. Locks are released on return.
        """
        reported: set = set()
        try:
            while True:
                active = [q for q in self.queries if q.isActive]
                failed = [q for q in self.queries if not q.isActive and q.exception() is not None]
                for query in failed:
                    if query.id not in reported:
                        reported.add(query.id)
                        log.error("%s failed; the job's other queries run on: %s", query.name,
                                  _first_line(query.exception()))
                stopped = len(self.queries) - len(active) - len(failed)
                if not active or (stopped and not until_all_done):
                    break
                active[0].awaitTermination(POLL_S)
        finally:
            self.stop()
        if failed:
            names = "; ".join(f"{q.name}: {_first_line(q.exception())}" for q in failed)
            raise QueriesFailedError(f"{len(failed)} of {len(self.queries)} queries failed: {names}") \
                from failed[0].exception()

    def stop(self) -> None:
        """Stops every query still running and releases the checkpoint locks; safe to call twice."""
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
        self.metrics.close()
        self.metrics = NoMetrics()


def _first_line(error) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
