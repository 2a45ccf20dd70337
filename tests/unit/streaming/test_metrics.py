"""silver.system_metrics rows."""
from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import functions as F

from lakehouse.schemas import CONTRACTS
from lakehouse.schemas.system_metrics import SILVER_SYSTEM_METRICS, SYSTEM_METRICS, with_metric_columns
from lakehouse.transforms.dedup import dedupe_for_merge
from lakehouse.transforms.parsing import parse_records
from tests.unit.streaming.conftest import bronze_df, payload

PROCESSED_AT = dt.datetime(2024, 6, 2, 8, 0)
SAMPLE = {"host": "h1", "service": "api", "metric_name": "latency_ms", "metric_value": 0,
          "metric_timestamp": "2024-06-01T10:00:00Z", "schema_version": "1.0"}


def test_metric_rows_follow_the_silver_contract_and_dedupe_by_sample(spark):
    values = [
        payload(**SAMPLE),                                                     # null row: unit and tags absent
        payload(**SAMPLE),                                                     # the same sample again
        payload(**{**SAMPLE, "metric_value": -1.5e-3, "unit": "ms",           # edge: negative, exponent, tags
                   "metric_timestamp": "2024-06-01T10:00:01Z", "tags": {"n": 1}}),
    ]
    parsed = bronze_df(spark, values).transform(parse_records(CONTRACTS["system_metrics"], 10_000))
    rows = parsed.transform(dedupe_for_merge(SYSTEM_METRICS.merge)).transform(with_metric_columns(F.lit(PROCESSED_AT)))
    expected = spark.createDataFrame([
        ("h1", "api", "latency_ms", 0.0, None, dt.datetime(2024, 6, 1, 10), dt.date(2024, 6, 1), None, "1.0",
         0, 0, PROCESSED_AT),
        ("h1", "api", "latency_ms", -0.0015, "ms", dt.datetime(2024, 6, 1, 10, 0, 1), dt.date(2024, 6, 1),
         {"n": "1"}, "1.0", 0, 2, PROCESSED_AT),
    ], SILVER_SYSTEM_METRICS)
    # Maps cannot be sorted, so rows are put in a known order instead of ignore_row_order.
    assert_df_equality(rows.orderBy("kafka_offset"), expected, ignore_nullable=True)
