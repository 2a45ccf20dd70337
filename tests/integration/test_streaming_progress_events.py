"""A JsonProgressListener sees the progress PySpark's own reader gives, at a few py4j calls per event."""
from __future__ import annotations

import threading

from pyspark.sql import functions as F
from pyspark.sql.streaming.listener import StreamingQueryProgress

from lakehouse.streaming.events import JsonProgressListener, progress_from_json

FIELDS = ("id", "runId", "name", "timestamp", "batchId", "batchDuration", "durationMs", "eventTime",
          "numInputRows", "inputRowsPerSecond", "processedRowsPerSecond", "observedMetrics")
SOURCE_FIELDS = ("description", "startOffset", "endOffset", "latestOffset", "numInputRows", "metrics")


class Recorded(JsonProgressListener):
    def __init__(self):
        self.pairs: list = []  # (the event's progress, PySpark's reader's of the same JVM progress)
        self.errors: list = []
        self.progressed = threading.Event()

    def onQueryStarted(self, event) -> None:
        pass

    def onQueryProgress(self, event) -> None:
        try:
            jprogress = event.progress._jprogress
            theirs = StreamingQueryProgress.fromJObject(jprogress)
            self.pairs.append((event.progress, theirs))
            self.pairs.append((progress_from_json(jprogress), theirs))  # the reader itself, not only its wiring
        except Exception as exc:  # raised in the listener bus thread: kept for the test's thread
            self.errors.append(exc)
        if len(self.pairs) >= 6:
            self.progressed.set()

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass


def comparable(value):
    return "nan" if value != value else value  # NaN rates equal themselves here


def test_progress_built_from_json_equals_pysparks_own(spark, tmp_path):
    listener = Recorded()
    spark.streams.addListener(listener)
    query = (
        spark.readStream.format("rate").option("rowsPerSecond", 20).load()
        .observe("newest", F.max("timestamp").alias("newest"), F.count(F.lit(1)).alias("rows"))
        .writeStream.format("noop").queryName("progress_events")
        .option("checkpointLocation", str(tmp_path / "checkpoint")).trigger(processingTime="500 milliseconds")
        .start()
    )
    try:
        assert listener.progressed.wait(120), "no progress events within 120 s"
    finally:
        query.stop()
        spark.streams.removeListener(listener)

    assert not listener.errors
    for received, theirs in listener.pairs:
        for name in FIELDS:
            assert comparable(getattr(received, name)) == comparable(getattr(theirs, name)), name
        assert received.sink.description == theirs.sink.description
        assert received.sink.numOutputRows == theirs.sink.numOutputRows
        assert len(received.sources) == len(theirs.sources) == 1
        for name in SOURCE_FIELDS:
            assert getattr(received.sources[0], name) == getattr(theirs.sources[0], name), name
    events = listener.pairs[::2]
    rows = [received.observedMetrics["newest"]["rows"] for received, _ in events]
    assert sum(rows) == sum(received.numInputRows for received, _ in events)
