"""silver.user_events rows: one per event_id, inserted once."""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.transforms.dedup import dedupe_first_seen

Transform = Callable[[DataFrame], DataFrame]


def dedupe_events(df: DataFrame) -> DataFrame:
    """Keeps the first copy of each event_id; events are immutable, so any copy is the event."""
    return df.transform(dedupe_first_seen(["event_id"]))


def with_event_columns(processed_at: Column) -> Transform:
    """Accepted, parsed user events -> the silver.user_events contract."""

    def transform(df: DataFrame) -> DataFrame:
        return df.select(
            "event_id",
            "user_id",
            "session_id",
            "event_type",
            "event_timestamp",
            F.to_date("event_timestamp").alias("event_date"),
            "page_url",
            "referrer",
            "device_type",
            "country_code",
            "event_properties",
            "schema_version",
            "kafka_partition",
            "kafka_offset",
            processed_at.cast("timestamp").alias("processed_at"),
        )

    return transform
