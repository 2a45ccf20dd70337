"""Spark actions left out of lineage, so that OpenLineage's Spark listener costs a small batch little.

OpenLineage's listener (1.25) reports every Spark SQL action with a START and a COMPLETE event, and
for each Delta table a MERGE touches it lists the table's files for an input-statistics facet: a Spark
job on the listener's thread, per event (OpenLineage issue #4976). For a small silver micro-batch
that was +16% of the driver's CPU, above issue 14's 5%. Actions run inside `unreported` carry a
Spark job tag, and the project's listener (`lakehouse.lineage.FilteredLineageListener`, jars/udf)
does not pass them on to OpenLineage's. `reported_every` runs a streaming query's micro-batches
unreported but for the first of the Spark application and one per interval: the query's own run
(lakehouse.streaming.lineage) carries its inputs and outputs for the whole run.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional

SKIP_TAG = "lakehouse-lineage-skip"  # FilteredLineageListener.SKIP_TAG
_REPORTED: dict = {}  # (Spark application id, key) -> time.monotonic() of its last reported block


@contextmanager
def unreported(spark) -> Iterator[None]:
    """Tags the Spark jobs this thread starts inside the block (nested blocks share the tag)."""
    context = spark.sparkContext
    if SKIP_TAG in context.getJobTags():
        yield
        return
    context.addJobTag(SKIP_TAG)
    try:
        yield
    finally:
        context.removeJobTag(SKIP_TAG)


@contextmanager
def reported_every(spark, key: str, interval_s: Optional[float]) -> Iterator[None]:
    """Runs the block reported when `due(spark, key, interval_s)`, unreported otherwise; as it is,
    counting nothing, when `interval_s` is None (lineage off)."""
    if interval_s is None or due(spark, key, interval_s):
        yield
    else:
        with unreported(spark):
            yield


def due(spark, key: str, interval_s: float) -> bool:
    """Whether a block of `key` (e.g. a streaming query's micro-batch) is reported now: the first one in
    this Spark application, then one at least `interval_s` after the last reported; 0: every one."""
    slot = (spark.sparkContext.applicationId, key)
    now, last = time.monotonic(), _REPORTED.get(slot)
    if interval_s > 0 and last is not None and now - last < interval_s:
        return False
    _REPORTED[slot] = now
    return True
