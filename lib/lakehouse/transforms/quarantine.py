"""quarantine.<topic> rows: every refused record with its reasons and its Kafka coordinates."""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.schemas.lake import QUARANTINE
from lakehouse.transforms.columns import select_schema
from lakehouse.transforms.parsing import filter_rejected

Transform = Callable[[DataFrame], DataFrame]


def to_quarantine_rows(quarantined_at: Column) -> Transform:
    """Parsed bronze rows -> the quarantine contract, keeping only rows with reasons."""
    to_quarantine = select_schema(QUARANTINE, schema_version=F.col("schema_version").cast("string"),
                                  quarantined_at=quarantined_at.cast("timestamp"))

    def transform(df: DataFrame) -> DataFrame:
        return df.transform(filter_rejected).transform(to_quarantine)

    return transform
