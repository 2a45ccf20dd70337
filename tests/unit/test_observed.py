"""Rows computed once with aggregates over them gathered meanwhile (lakehouse.spark.observed)."""
from __future__ import annotations

import datetime as dt

from pyspark.sql import functions as F

from lakehouse.spark.observed import checkpointed_observing


def rows(spark):
    return spark.createDataFrame([(1, dt.date(2024, 6, 1), True), (2, None, False), (3, dt.date(2024, 5, 31), True)],
                                 "id long, day date, flagged boolean")


def test_the_facts_are_those_an_aggregate_of_the_rows_finds_and_the_rows_are_kept(spark):
    checkpointed, facts = checkpointed_observing(rows(spark), F.count(F.lit(1)), F.count(F.when(F.col("flagged"), 1)),
                                                 F.min("day").cast("string"), F.max(F.col("day").isNull()))

    assert facts == [3, 2, "2024-05-31", True]
    assert sorted(row.id for row in checkpointed.collect()) == [1, 2, 3]


def test_over_no_rows_counts_are_zero_and_other_facts_none(spark):
    _, facts = checkpointed_observing(rows(spark).limit(0), F.count(F.lit(1)), F.min("day"))

    assert facts == [0, None]


def test_rows_and_facts_take_one_spark_job(spark):
    context = spark.sparkContext
    context.setJobGroup("observed-facts", "checkpointed_observing")
    try:
        checkpointed_observing(rows(spark), F.count(F.lit(1)), F.collect_set("day"))
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
        context.setLocalProperty("spark.job.description", None)

    assert len(context.statusTracker().getJobIdsForGroup("observed-facts")) == 1
