"""silver.system_metrics rows: one per (host, service, metric_name, metric_timestamp), inserted once."""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.schemas.system_metrics import SILVER_SYSTEM_METRICS, SYSTEM_METRICS
from lakehouse.transforms.columns import select_schema
from lakehouse.transforms.dedup import dedupe_first_seen

Transform = Callable[[DataFrame], DataFrame]


def dedupe_metrics(df: DataFrame) -> DataFrame:
    """Keeps the first copy of each sample (same host, service, metric and timestamp)."""
    return df.transform(dedupe_first_seen(list(SYSTEM_METRICS.record_key)))


def with_metric_columns(processed_at: Column) -> Transform:
    """Accepted, parsed metric samples -> the silver.system_metrics contract."""
    return select_schema(SILVER_SYSTEM_METRICS, metric_date=F.to_date("metric_timestamp"),
                         processed_at=processed_at.cast("timestamp"))
