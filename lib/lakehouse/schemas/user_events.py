"""Contract of the `user_events` topic: its payload, silver.user_events and the step between them.

Events are immutable: the first copy of an event_id is inserted once, repeats change nothing.
"""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DateType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from lakehouse.schemas.contract import Contract, Field, Transform
from lakehouse.sinks.delta import MergeSpec
from lakehouse.transforms.columns import select_schema

EVENT_TYPES = ("page_view", "button_click", "form_submit", "purchase", "cart_add", "cart_remove", "login", "logout")

SILVER_USER_EVENTS = StructType([
    StructField("event_id", StringType()),
    StructField("user_id", StringType()),
    StructField("session_id", StringType()),
    StructField("event_type", StringType()),
    StructField("event_timestamp", TimestampType()),
    StructField("event_date", DateType()),
    StructField("page_url", StringType()),
    StructField("referrer", StringType()),
    StructField("device_type", StringType()),
    StructField("country_code", StringType()),
    StructField("event_properties", StringType()),
    StructField("schema_version", StringType()),
    StructField("kafka_partition", IntegerType()),
    StructField("kafka_offset", LongType()),
    StructField("processed_at", TimestampType()),
])


def with_event_columns(processed_at: Column) -> Transform:
    """Accepted, parsed user events -> the silver.user_events contract."""
    return select_schema(SILVER_USER_EVENTS, event_date=F.to_date("event_timestamp"),
                         processed_at=processed_at.cast("timestamp"))


USER_EVENTS = Contract(
    name="user_events",
    version="1.0",
    fields=(
        Field("event_id", "uuid", required=True),
        Field("user_id", "user_id", required=True),
        Field("session_id", "text"),
        Field("event_type", "enum", required=True, allowed=EVENT_TYPES),
        Field("event_timestamp", "timestamp", required=True),
        Field("page_url", "text"),
        Field("referrer", "text"),
        Field("device_type", "text"),
        Field("country_code", "country_code"),
        Field("event_properties", "json_object"),
        Field("schema_version", "schema_version", required=True),
    ),
    record_key=("event_id",),
    silver_table="user_events",
    silver_schema=SILVER_USER_EVENTS,
    silver_partition="event_date",
    merge=MergeSpec(keys=("event_id",), insert_only=True, prune_column="event_date"),
    shape=with_event_columns,
)
