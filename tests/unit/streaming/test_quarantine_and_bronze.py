"""Quarantine rows and bronze rows."""
from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F

from lakehouse.schemas import CONTRACTS
from lakehouse.schemas.lake import BRONZE, QUARANTINE
from lakehouse.transforms.bronze import with_bronze_columns
from lakehouse.transforms.parsing import parse_records
from lakehouse.transforms.quarantine import to_quarantine_rows
from tests.unit.streaming.conftest import INGEST_DATE, INGESTED_AT, bronze_df

AT = dt.datetime(2024, 6, 2, 8, 0)


def test_quarantine_rows_keep_reasons_coordinates_and_raw_bytes(spark):
    values = [None, b"{", b'{"schema_version": "9.0"}' + b" " * 100]
    parsed = bronze_df(spark, values).transform(parse_records(CONTRACTS["system_metrics"], 100))
    rows = parsed.transform(to_quarantine_rows(F.lit(AT)))
    missing = ["missing_field:host", "missing_field:service", "missing_field:metric_name",
               "missing_field:metric_value", "missing_field:metric_timestamp", "unsupported_schema_version"]
    expected = spark.createDataFrame([
        # null row
        ("t", 0, 0, INGESTED_AT, b"k", None, None, ["null_value"], None, INGESTED_AT, INGEST_DATE, AT, "id1"),
        ("t", 0, 1, INGESTED_AT, b"k", b"{", 1, ["malformed_json"], None, INGESTED_AT, INGEST_DATE, AT, "id1"),
        # edge
        ("t", 0, 2, INGESTED_AT, b"k", None, 125, ["record_too_large"], None, INGESTED_AT, INGEST_DATE, AT, "id1"),
    ], QUARANTINE)
    assert_df_equality(rows, expected, ignore_row_order=True, ignore_nullable=True)
    assert missing  # a record with a parseable body lists each missing field (see test_parsing)


def test_bronze_rows_rename_kafka_columns_and_add_ingest_time(spark):
    kafka_schema = ("key binary, value binary, topic string, partition int, offset long, timestamp timestamp, "
                    "timestampType int, headers array<struct<key:string,value:binary>>")
    source = spark.createDataFrame([
        (None, None, "t", 3, 0, None, 0, None),                                    # null row: tombstone, no key
        (b"7", b"{}", "t", 3, 2**40, dt.datetime(2024, 6, 1, 23, 59, 59), 1, [("h", b"v")]),  # edge: big offset
    ], kafka_schema)
    ingested = dt.datetime(2024, 6, 1, 23, 59, 59, 999999)
    rows = source.transform(with_bronze_columns(F.lit(ingested), "id1"))
    expected = spark.createDataFrame([
        ("t", 3, 0, None, 0, None, None, None, ingested, dt.date(2024, 6, 1), "id1"),
        ("t", 3, 2**40, dt.datetime(2024, 6, 1, 23, 59, 59), 1, b"7", b"{}", [("h", b"v")], ingested,
         dt.date(2024, 6, 1), "id1"),
    ], BRONZE)
    assert_df_equality(rows, expected, ignore_row_order=True, ignore_nullable=True)
