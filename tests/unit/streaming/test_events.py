"""silver.user_events rows."""
from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F

from lakehouse.schemas import CONTRACTS
from lakehouse.schemas.user_events import SILVER_USER_EVENTS, USER_EVENTS, with_event_columns
from lakehouse.transforms.dedup import dedupe_for_merge
from lakehouse.transforms.parsing import parse_records
from tests.unit.streaming.conftest import bronze_df, payload

PROCESSED_AT = dt.datetime(2024, 6, 2, 8, 0)
EVENT = {"event_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "user_id": "42", "event_type": "login",
         "event_timestamp": "2024-05-31T23:59:59.999Z", "schema_version": "1.0"}


def test_event_rows_follow_the_silver_contract(spark):
    values = [
        payload(**EVENT),                                                         # null row: optional fields absent
        payload(**{**EVENT, "event_id": "1f8fad5b-d9cb-469f-a165-70867728950e",  # edge: midnight UTC, next date
                   "event_timestamp": "2024-06-01T00:00:00Z", "country_code": "US",
                   "event_properties": {"nested": {"a": [1, 2]}}}),
    ]
    parsed = bronze_df(spark, values).transform(parse_records(CONTRACTS["user_events"], 10_000))
    rows = parsed.transform(with_event_columns(F.lit(PROCESSED_AT)))
    expected = spark.createDataFrame([
        ("0f8fad5b-d9cb-469f-a165-70867728950e", "42", None, "login", dt.datetime(2024, 5, 31, 23, 59, 59, 999000),
         dt.date(2024, 5, 31), None, None, None, None, None, "1.0", 0, 0, PROCESSED_AT),
        ("1f8fad5b-d9cb-469f-a165-70867728950e", "42", None, "login", dt.datetime(2024, 6, 1),
         dt.date(2024, 6, 1), None, None, None, "US", '{"nested":{"a":[1,2]}}', "1.0", 0, 1, PROCESSED_AT),
    ], SILVER_USER_EVENTS)
    assert_df_equality(rows, expected, ignore_row_order=True, ignore_nullable=True)


def test_dedupe_for_merge_keeps_one_row_per_event_id(spark):
    copies = [payload(**EVENT), payload(**EVENT), payload(**{**EVENT, "user_id": "43"})]
    parsed = bronze_df(spark, copies).transform(parse_records(CONTRACTS["user_events"], 10_000))
    deduped = parsed.transform(dedupe_for_merge(USER_EVENTS.merge)).select("kafka_offset", "user_id")
    assert_df_equality(deduped, spark.createDataFrame([(0, "42")], "kafka_offset long, user_id string"),
                       ignore_nullable=True)
