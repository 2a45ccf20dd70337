"""Deduplication: exact dedup within a batch, the latest row per key that every MERGE source needs.

Across batches the MERGE itself is the guard (insert once, or newest version wins), so repeats are
caught at any distance without streaming state.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Callable

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lakehouse.sinks.delta import MergeSpec

Transform = Callable[[DataFrame], DataFrame]


def dedupe_first_seen(keys: Sequence[str]) -> Transform:
    """Keeps one copy per key, the same whatever the read order: the lowest (partition, offset)."""

    def transform(df: DataFrame) -> DataFrame:
        order = Window.partitionBy(*keys).orderBy("kafka_partition", "kafka_offset")
        return df.withColumn("_rank", F.row_number().over(order)).where("_rank = 1").drop("_rank")

    return transform


def dedupe_latest(keys: Sequence[str], order_by: Sequence[str]) -> Transform:
    """One row per key: the row with the greatest `order_by` values, compared left to right.

    `order_by` holds column names or SQL expressions over the row. A MERGE source must hold each key
    once. Nulls in `order_by` rank lowest; rows whose key is null count as one key, as in a GROUP BY.
    """

    def transform(df: DataFrame) -> DataFrame:
        newest_first = Window.partitionBy(*keys).orderBy(*(F.expr(c).desc_nulls_last() for c in order_by))
        ranked = df.withColumn("_rank", F.row_number().over(newest_first))
        return ranked.where(F.col("_rank") == 1).select(*df.columns)

    return transform


def dedupe_by_version(merge: MergeSpec, then: Sequence[str] = ()) -> Transform:
    """Keeps, for each key, the newest version in `merge`'s order (newer_column, then its tie
    breakers: the order its MERGE keeps), then by the columns `then`."""
    order = [*merge.version("r"), *(f"r.`{column}`" for column in then)]

    def transform(df: DataFrame) -> DataFrame:
        return df.alias("r").transform(dedupe_latest(merge.keys, order))

    return transform


def dedupe_newest_version(merge: MergeSpec) -> Transform:
    """dedupe_by_version; rows equal in all of it go to the copy last written to Kafka, so the
    choice never depends on the order Spark reads the rows in."""
    return dedupe_by_version(merge, then=("kafka_partition", "kafka_offset"))


def dedupe_for_merge(merge: MergeSpec) -> Transform:
    """One row per merge key, the one `merge` keeps: the newest version when the newest wins
    (dedupe_newest_version), the first copy seen when rows are inserted once (dedupe_first_seen)."""
    if merge.newer_column is not None:
        return dedupe_newest_version(merge)
    if merge.insert_only:
        return dedupe_first_seen(merge.keys)
    raise ValueError("a merge that replaces matched rows unconditionally has no row to prefer")
