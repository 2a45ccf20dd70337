"""Streaming progress -> job metrics (lakehouse.ops.metrics), from Spark's own progress events.

Nothing here starts a Spark job: rows in, batch duration and consumer lag come from each query's
progress; bronze's freshness from an observed max(kafka_timestamp) computed while the batch is
written (`observe_newest`). Silver's written and quarantined rows come from its batch handler.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Optional

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse.ops.metrics import seconds_since
from lakehouse.streaming.events import JsonProgressListener

log = logging.getLogger(__name__)

NEWEST = "newest"  # the observation holding a batch's max(kafka_timestamp)


def observe_newest(df: DataFrame) -> DataFrame:
    """Records each batch's newest Kafka timestamp in its progress (no extra Spark job)."""
    return df.observe(NEWEST, F.max("kafka_timestamp").alias("kafka_timestamp"))


def records_behind(latest: Optional[str], end: Optional[str]) -> dict[str, int]:
    """Per topic, the records between a Kafka source's end offsets and the latest, over its partitions."""
    try:
        latest_offsets, end_offsets = json.loads(latest or "null"), json.loads(end or "null")
    except ValueError:
        return {}
    if not isinstance(latest_offsets, dict) or not isinstance(end_offsets, dict):
        return {}
    return {
        topic: sum(max(offset - end_offsets.get(topic, {}).get(partition, offset), 0)
                   for partition, offset in partitions.items())
        for topic, partitions in latest_offsets.items()
    }


class MetricsListener(JsonProgressListener):
    """Sends the metrics of the queries it watches (by query name) after each micro-batch."""

    def __init__(self, metrics):
        self.metrics = metrics
        self.watched: dict[str, dict[str, str]] = {}
        self.reported: dict[str, int] = {}  # query id -> last batch id sent

    def watch(self, query_name: str, **dimensions: str) -> None:
        self.watched[query_name] = dimensions

    def catch_up(self, queries, timeout_s: float = 10.0) -> None:
        """Waits until the last progress of each query (events arrive asynchronously) was sent."""
        last = {str(q.id): q.lastProgress["batchId"] for q in queries if q.lastProgress and q.name in self.watched}
        deadline = time.monotonic() + timeout_s
        while any(self.reported.get(query, -1) < batch for query, batch in last.items()):
            if time.monotonic() > deadline:
                log.warning("metrics: the last progress of some queries did not arrive within %.0fs", timeout_s)
                return
            time.sleep(0.05)

    def onQueryStarted(self, event) -> None:
        pass

    def onQueryProgress(self, event) -> None:
        progress = event.progress
        dimensions = self.watched.get(progress.name)
        if dimensions is None:
            return
        emit = self.metrics.emit
        emit("RowsIn", progress.numInputRows, **dimensions)
        emit("BatchDuration", progress.batchDuration, "Milliseconds", **dimensions)
        for source in progress.sources:
            if not source.description.startswith("Kafka"):
                continue
            for topic, behind in records_behind(source.latestOffset, source.endOffset).items():
                emit("ConsumerLag", behind, **dimensions, topic=topic)
        newest = progress.observedMetrics.get(NEWEST)
        if newest is not None:  # bronze: every row read is appended
            emit("RowsWritten", progress.numInputRows, **dimensions)
            age = seconds_since(newest["kafka_timestamp"])
            if age is not None:
                emit("Freshness", age, "Seconds", **dimensions)
        self.reported[str(progress.id)] = progress.batchId

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass
