"""DataFrame transforms of the extract, with chispa: each with a null row and an edge row."""
from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from lakehouse.extract.transforms import filter_absent_keys, nullable_schema
from lakehouse.transforms.dedup import dedupe_latest

T = dt.datetime(2024, 5, 1, 12, 0)
ROWS = StructType([StructField("id", LongType()), StructField("updated_at", TimestampType()),
                   StructField("label", StringType())])


def test_dedupe_latest_keeps_the_newest_row_of_each_key(spark):
    source = spark.createDataFrame([
        (1, T, "old"),
        (1, T + dt.timedelta(hours=1), "new"),
        (2, None, "no cursor"),                            # null row: a null order value ranks lowest
        (2, T, "has cursor"),
        (None, T, "null key, older"),                      # null keys count as one key
        (None, T + dt.timedelta(days=1), "null key, newer"),
        (3, T, "earlier by a microsecond"),                # edge: the smallest possible difference
        (3, T + dt.timedelta(microseconds=1), "later by a microsecond"),
    ], ROWS)
    expected = spark.createDataFrame([
        (1, T + dt.timedelta(hours=1), "new"),
        (2, T, "has cursor"),
        (None, T + dt.timedelta(days=1), "null key, newer"),
        (3, T + dt.timedelta(microseconds=1), "later by a microsecond"),
    ], ROWS)
    assert_df_equality(source.transform(dedupe_latest(["id"], ["updated_at"])), expected, ignore_row_order=True)


def test_dedupe_latest_breaks_ties_on_the_next_order_column(spark):
    schema = "id long, updated_at timestamp, extracted_at timestamp, label string"
    source = spark.createDataFrame([(1, T, T, "first extraction"), (1, T, T + dt.timedelta(minutes=5), "later"),
                                    (1, T, None, "never extracted")], schema)
    expected = spark.createDataFrame([(1, T, T + dt.timedelta(minutes=5), "later")], schema)
    assert_df_equality(source.transform(dedupe_latest(["id"], ["updated_at", "extracted_at"])), expected)


def test_filter_absent_keys_keeps_target_rows_whose_key_the_source_lost(spark):
    target = spark.createDataFrame([(1, "a", "kept in source"), (1, "b", "deleted"), (None, "a", "null key"),
                                    (2, "a", "kept in source")], "tenant long, code string, label string")
    source_keys = spark.createDataFrame([(1, "a"), (2, "a"), (3, "z")], "tenant long, code string")
    expected = spark.createDataFrame([(1, "b", "deleted"), (None, "a", "null key")],
                                     "tenant long, code string, label string")
    actual = target.transform(filter_absent_keys(source_keys, ["tenant", "code"]))
    assert_df_equality(actual, expected, ignore_row_order=True)


def test_filter_absent_keys_of_an_empty_source_keeps_everything(spark):
    target = spark.createDataFrame([(1, "x"), (None, None)], "id long, label string")
    empty = spark.createDataFrame([], "id long")
    assert_df_equality(target.transform(filter_absent_keys(empty, ["id"])), target, ignore_row_order=True)


def test_nullable_schema_drops_jdbc_metadata_and_not_null():
    jdbc = StructType([StructField("order_id", LongType(), False, {"scale": 0}),
                       StructField("note", StringType(), True)])
    assert nullable_schema(jdbc) == StructType([StructField("order_id", LongType(), True),
                                                StructField("note", StringType(), True)])
    assert nullable_schema(jdbc).fields[0].metadata == {}
