"""The closing select of a step, stated by a schema."""
from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from lakehouse.sinks.delta import MergeSpec
from lakehouse.transforms.columns import select_schema
from lakehouse.transforms.dedup import dedupe_for_merge


def test_select_schema_keeps_the_schema_order_and_derives_what_it_is_told(spark):
    target = spark.createDataFrame([], "id string, label string, size long").schema
    source = spark.createDataFrame([("a", 3, "x", "dropped"), (None, None, None, None)],  # null row
                                   "id string, size long, label string, extra string")
    selected = source.transform(select_schema(target, size=F.col("size") * 2))
    expected = spark.createDataFrame([("a", "x", 6), (None, None, None)], target)
    assert_df_equality(selected, expected, ignore_row_order=True, ignore_nullable=True)


def test_select_schema_refuses_a_derived_column_the_schema_lacks(spark):
    target = spark.createDataFrame([], "id string").schema
    with pytest.raises(ValueError, match="not in the schema: size"):
        select_schema(target, size=F.lit(1))


def test_dedupe_for_merge_refuses_a_merge_with_no_row_to_prefer():
    with pytest.raises(ValueError, match="no row to prefer"):
        dedupe_for_merge(MergeSpec(keys=("id",)))
