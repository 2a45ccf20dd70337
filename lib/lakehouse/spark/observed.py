"""A DataFrame computed once, and aggregates over its rows gathered while it is: one Spark job for both.

A handler that checkpoints rows it reads several times (`localCheckpoint`) often needs a few figures of
them too (counts, partitions, first and last keys), and `df.agg(...)` after the checkpoint is a Spark job
of its own: 0.1-0.3 s of a small micro-batch. Spark's observed metrics (`DataFrame.observe`) compute the
aggregates in the checkpoint's own tasks instead; they are read on the driver from the plan that job
ran (not through `pyspark.sql.Observation`, which waits on a listener event without a time limit).
"""
from __future__ import annotations

import json

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

OBSERVED = "lakehouse_observed"  # the observed metric's name (one per plan)


def checkpointed_observing(source: DataFrame, *facts: Column) -> tuple[DataFrame, list]:
    """`source` computed once (`localCheckpoint(eager=True)`) and the values of the aggregate columns
    `facts` over its rows, as JSON gives them back: a date or timestamp as its ISO text, a null as None."""
    if not facts:
        return source.localCheckpoint(eager=True), []
    named = [fact.alias(f"f{i}") for i, fact in enumerate(facts)]
    observed = source.observe(OBSERVED, F.to_json(F.struct(*named)))
    checkpointed = observed.localCheckpoint(eager=True)
    values = json.loads(observed._jdf.queryExecution().observedMetrics().apply(OBSERVED).getString(0))
    return checkpointed, [values.get(f"f{i}") for i in range(len(facts))]  # to_json leaves out nulls
