"""bronze.<topic> rows: Kafka records exactly as read, plus when they were ingested."""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.schemas.lake import BRONZE
from lakehouse.transforms.columns import select_schema

Transform = Callable[[DataFrame], DataFrame]


def with_bronze_columns(ingested_at: Column, topic_id: str) -> Transform:
    """Spark Kafka source rows -> the bronze contract.

    Args:
        ingested_at: when the rows were read; in a stream, `current_timestamp()` is fixed per
            micro-batch, so it grows with every bronze commit (silver's dedup watermark uses it).
        topic_id: the id of the topic incarnation the rows are read from (lakehouse.kafka.topic_id).
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
        topic_id=F.lit(topic_id),
    )
