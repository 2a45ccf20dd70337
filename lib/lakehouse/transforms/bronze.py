"""bronze.<topic> rows: Kafka records exactly as read, plus when they were ingested."""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.schemas.lake import BRONZE
from lakehouse.transforms.columns import select_schema

Transform = Callable[[DataFrame], DataFrame]


def with_bronze_columns(ingested_at: Column) -> Transform:
    """Spark Kafka source rows -> the bronze contract.

    Args:
        ingested_at: when the rows were read; in a stream, `current_timestamp()` is fixed per
            micro-batch, so it grows with every bronze commit (silver's dedup watermark uses it).
    """

    ingested = ingested_at.cast("timestamp")
    return select_schema(
        BRONZE,
        kafka_partition=F.col("partition"),
        kafka_offset=F.col("offset"),
        kafka_timestamp=F.col("timestamp"),
        kafka_timestamp_type=F.col("timestampType"),
        ingested_at=ingested,
        ingest_date=F.to_date(ingested),
    )
