"""Which Spark actions the lineage listener is told to leave out (lakehouse.lineage.skip): the job tag
of `unreported` blocks, and the streaming batches `reported_every` reports."""
from __future__ import annotations

import time

from lakehouse.lineage.skip import SKIP_TAG, due, reported_every, unreported


def test_unreported_tags_the_block_nested_blocks_keep_it_and_it_ends_with_the_outer_block(spark):
    context = spark.sparkContext
    with unreported(spark):
        assert SKIP_TAG in context.getJobTags()
        with unreported(spark):
            pass
        assert SKIP_TAG in context.getJobTags(), "the inner block must not lift the outer one's tag"
    assert SKIP_TAG not in context.getJobTags()


def test_the_tag_is_lifted_when_the_block_fails(spark):
    try:
        with unreported(spark):
            raise ValueError("a failed batch")
    except ValueError:
        pass
    assert SKIP_TAG not in spark.sparkContext.getJobTags()


def test_a_key_is_reported_first_then_once_per_interval_and_every_time_with_interval_zero(spark):
    key = f"checkpoint-{time.monotonic_ns()}"
    assert due(spark, key, 3600)
    assert not due(spark, key, 3600)
    assert due(spark, f"{key}-other", 3600), "each key has its own interval"
    assert due(spark, key, 0), "0: every block"
    assert due(spark, key, 0)
    time.sleep(0.06)
    assert due(spark, key, 0.05)
    with reported_every(spark, key, 3600):
        assert SKIP_TAG in spark.sparkContext.getJobTags(), "within the interval: unreported"
    assert SKIP_TAG not in spark.sparkContext.getJobTags()


def test_with_lineage_off_blocks_run_as_they_are_and_count_for_nothing(spark):
    key = f"checkpoint-{time.monotonic_ns()}"
    with reported_every(spark, key, None):
        assert SKIP_TAG not in spark.sparkContext.getJobTags()
    assert due(spark, key, 3600), "the first block with lineage on is still reported"
