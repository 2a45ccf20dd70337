"""bronze.<topic> rows: Kafka records exactly as read, plus when they were ingested."""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

Transform = Callable[[DataFrame], DataFrame]


def with_bronze_columns(ingested_at: Column) -> Transform:
    """Spark Kafka source rows -> the bronze contract.

    Args:
        ingested_at: when the rows were read; in a stream, `current_timestamp()` is fixed per
            micro-batch, so it grows with every bronze commit (silver's dedup watermark uses it).
    """

    def transform(df: DataFrame) -> DataFrame:
        return df.select(
            "topic",
            F.col("partition").alias("kafka_partition"),
            F.col("offset").alias("kafka_offset"),
            F.col("timestamp").alias("kafka_timestamp"),
            F.col("timestampType").alias("kafka_timestamp_type"),
            "key",
            "value",
            "headers",
            ingested_at.cast("timestamp").alias("ingested_at"),
            F.to_date(ingested_at.cast("timestamp")).alias("ingest_date"),
        )

    return transform
