"""quarantine.<topic> rows: every refused record with its reasons and its Kafka coordinates."""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.transforms.parsing import filter_rejected

Transform = Callable[[DataFrame], DataFrame]


def to_quarantine_rows(quarantined_at: Column) -> Transform:
    """Parsed bronze rows -> the quarantine contract, keeping only rows with reasons."""

    def transform(df: DataFrame) -> DataFrame:
        return df.transform(filter_rejected).select(
            "topic",
            "kafka_partition",
            "kafka_offset",
            "kafka_timestamp",
            "key",
            "value",
            "value_bytes",
            "reasons",
            F.col("schema_version").cast("string").alias("schema_version"),
            "ingested_at",
            "ingest_date",
            quarantined_at.cast("timestamp").alias("quarantined_at"),
        )

    return transform
