"""Deduplication: bounded streaming state in front of foreachBatch, exact dedup within a batch, and the
latest row per key that every MERGE source needs.

Across batches the silver MERGE is the final guard (insert once, or newest version wins), so the
streaming state only has to catch repeats that arrive close together (producer retries, replays),
and can forget keys after `streaming.dedup_window`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Callable

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lakehouse.schemas.contract import Contract
from lakehouse.sinks.delta import MergeSpec
from lakehouse.transforms.parsing import is_rejected

Transform = Callable[[DataFrame], DataFrame]


def with_record_key(contract: Contract) -> Transform:
    """Adds `record_key`: the contract's record key for accepted rows; for rejected rows their Kafka
    coordinates, so deduplication never folds two different bad records into one."""

    def transform(df: DataFrame) -> DataFrame:
        key = F.concat_ws("|", *(F.col(name).cast("string") for name in contract.record_key))
        coordinates = F.concat_ws(":", F.lit("kafka"), "topic", "topic_id", "kafka_partition", "kafka_offset")
        return df.withColumn("record_key", F.when(is_rejected(), coordinates).otherwise(key))

    return transform


def dedupe_within_watermark(window: str) -> Transform:
    """Drops a row whose `record_key` was already seen within `window` of bronze ingest time.

    The watermark is on `ingested_at`, which grows with every bronze commit, so no row is ever
    "late" and dropped for lateness (event time may be hours late). A key is evicted at the end of
    the first micro-batch whose watermark (latest ingest time - `window`) is past the key's first
    ingest time + `window`: repeats up to `window` apart are always dropped here, and the state
    holds the keys of at most the last two windows. Later repeats reach the MERGE, which drops them.
    """

    def transform(df: DataFrame) -> DataFrame:
        return df.withWatermark("ingested_at", window).dropDuplicatesWithinWatermark(["record_key"])

    return transform


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
