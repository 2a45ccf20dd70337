"""The queries of one job run and the checkpoint locks they hold: wait for them, or stop them all."""
from __future__ import annotations

import logging

from lakehouse.ops.metrics import NoMetrics
from lakehouse.streaming.lineage import QueryLineage
from lakehouse.streaming.metrics import MetricsListener
from lakehouse.streaming.progress import ProgressLogger

log = logging.getLogger(__name__)

POLL_S = 2.0


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
        """Blocks until every query finished (available-now) or any one stopped (processing-time).

        A failed query stops the others; its error is raised. Locks are released on return.
        """
        try:
            while True:
                active = [q for q in self.queries if q.isActive]
                failed = [q for q in self.queries if not q.isActive and q.exception() is not None]
                if failed:
                    raise failed[0].exception()
                if not active or (len(active) < len(self.queries) and not until_all_done):
                    return
                active[0].awaitTermination(POLL_S)
        finally:
            self.stop()

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
