"""silver.user_events rows: one per event_id, inserted once."""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.schemas.user_events import SILVER_USER_EVENTS
from lakehouse.transforms.columns import select_schema
from lakehouse.transforms.dedup import dedupe_first_seen

Transform = Callable[[DataFrame], DataFrame]


def dedupe_events(df: DataFrame) -> DataFrame:
    """Keeps the first copy of each event_id; events are immutable, so any copy is the event."""
    return df.transform(dedupe_first_seen(["event_id"]))


def with_event_columns(processed_at: Column) -> Transform:
    """Accepted, parsed user events -> the silver.user_events contract."""
    return select_schema(SILVER_USER_EVENTS, event_date=F.to_date("event_timestamp"),
                         processed_at=processed_at.cast("timestamp"))
