"""Builders of small bronze-shaped DataFrames for the streaming transform tests."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Optional, Union

from lakehouse.schemas.lake import BRONZE

INGESTED_AT = dt.datetime(2024, 6, 1, 12, 0, 0)
INGEST_DATE = dt.date(2024, 6, 1)


def payload(**fields: Any) -> bytes:
    return json.dumps(fields, separators=(",", ":")).encode()


def bronze_df(spark, values: list[Optional[Union[bytes, str]]], topic: str = "t", partition: int = 0,
              ingested_at: dt.datetime = INGESTED_AT, topic_id: Optional[str] = "id1"):
    """Bronze rows with offsets 0..n-1 carrying `values` (str values are UTF-8 encoded)."""
    rows = [
        (topic, partition, offset, ingested_at, 0, b"k", value.encode() if isinstance(value, str) else value, [],
         ingested_at, ingested_at.date(), topic_id)
        for offset, value in enumerate(values)
    ]
    return spark.createDataFrame(rows, BRONZE)
