"""A base for Python streaming query listeners whose progress events cost a few py4j calls, not hundreds.

PySpark builds each progress event from the JVM object field by field. Iterating a Java map through
py4j ends on a Java exception, and PySpark converts each one by testing it against a dozen exception
classes, each test a chain of class look-ups that miss and scan the whole class path. One event has
several maps (durationMs, eventTime, observed metrics), so building it took 285 ms (median) on a
2-core machine, for every listener and query, on the cores the queries run on. `JsonProgressListener`
builds the same event from the progress's JSON instead: 9 ms.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from pyspark.sql.streaming import StreamingQueryListener
from pyspark.sql.streaming.listener import (
    JStreamingQueryListener,
    QueryProgressEvent,
    SinkProgress,
    SourceProgress,
    StreamingQueryProgress,
)

NOT_A_NUMBER = float("nan")  # what Spark leaves out of the JSON (a rate of a batch without rows)


class JsonProgressListener(StreamingQueryListener):
    """A StreamingQueryListener (register it with `spark.streams.addListener`) whose onQueryProgress
    receives an event built from the progress's JSON; the other callbacks are PySpark's."""

    @property
    def _jlistener(self):
        from pyspark import SparkContext

        if not hasattr(self, "_jlistenerobj"):
            self._jlistenerobj = SparkContext._jvm.PythonStreamingQueryListenerWrapper(_JsonProgressBridge(self))
        return self._jlistenerobj


class _JsonProgressBridge(JStreamingQueryListener):
    def onQueryProgress(self, jevent) -> None:
        self.pylistener.onQueryProgress(QueryProgressEvent(progress_from_json(jevent.progress())))


def progress_from_json(jprogress) -> StreamingQueryProgress:
    """The PySpark StreamingQueryProgress of a JVM one, read from its JSON (the batch duration and observed
    metrics from the JVM object: the JSON lacks the one and types the other's values as text); stateful
    queries' through PySpark's own reader."""
    j = json.loads(jprogress.json())
    if j.get("stateOperators"):
        return StreamingQueryProgress.fromJObject(jprogress)
    sink = j["sink"]
    return StreamingQueryProgress(
        jprogress=jprogress,
        id=uuid.UUID(j["id"]),
        runId=uuid.UUID(j["runId"]),
        name=j.get("name"),
        timestamp=j["timestamp"],
        batchId=j["batchId"],
        batchDuration=j["batchDuration"] if "batchDuration" in j else jprogress.batchDuration(),  # not in 3.5's JSON
        durationMs=j.get("durationMs", {}),
        eventTime=j.get("eventTime", {}),
        stateOperators=[],
        sources=[_source(source) for source in j["sources"]],
        sink=SinkProgress(description=sink["description"], numOutputRows=sink.get("numOutputRows", -1),
                          metrics=sink.get("metrics", {})),
        numInputRows=j["numInputRows"],
        inputRowsPerSecond=j.get("inputRowsPerSecond", NOT_A_NUMBER),
        processedRowsPerSecond=j.get("processedRowsPerSecond", NOT_A_NUMBER),
        observedMetrics=_observed_metrics(jprogress) if j.get("observedMetrics") else {},
    )


def _source(j: dict) -> SourceProgress:
    return SourceProgress(
        description=j["description"],
        startOffset=_offset(j.get("startOffset")),
        endOffset=_offset(j.get("endOffset")),
        latestOffset=_offset(j.get("latestOffset")),
        numInputRows=j["numInputRows"],
        inputRowsPerSecond=j.get("inputRowsPerSecond", NOT_A_NUMBER),
        processedRowsPerSecond=j.get("processedRowsPerSecond", NOT_A_NUMBER),
        metrics=j.get("metrics", {}),
    )


def _offset(value: Any) -> str:
    """An offset as PySpark's reader gives it: the source's JSON text (Spark nests it parsed), "None" when absent."""
    return str(value) if value is None or isinstance(value, str) else json.dumps(value)


def _observed_metrics(jprogress) -> dict:
    """Name -> Row, as PySpark's reader builds them, without iterating the Java map."""
    from pyspark import SparkContext, cloudpickle

    jmetrics = jprogress.observedMetrics()
    names = jmetrics.keySet().toArray()
    to_row = SparkContext._jvm.PythonSQLUtils.toPyRow
    return {names[i]: cloudpickle.loads(to_row(jmetrics.get(names[i]))) for i in range(len(names))}
