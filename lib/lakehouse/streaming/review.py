"""silver.fraud_review: a copy of the flagged rows of silver.transactions, equal to them after every batch.

Review is written from the rows silver holds once the batch's MERGE has committed, not from the
batch's scored versions: a version silver did not take (older than, or the same as, the one it
holds, e.g. scored again against today's history in a replay under a new app id) never reaches
review, and a key whose row in silver is no longer flagged leaves it. One MERGE per batch, with the
batch's transaction id, so a re-run batch is skipped like its other writes.
"""
from __future__ import annotations

from typing import Optional

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.ops.phases import phase
from lakehouse.schemas.lake import FRAUD_REVIEW
from lakehouse.sinks.delta import (
    MATERIALIZE_SOURCE,
    MergeOutcome,
    TableSpec,
    Txn,
    commit_options,
    ensure_table,
    table_version,
)
from lakehouse.sinks.retry import retry_conflicts
from lakehouse.transforms.fraud import to_review_changes

REVIEW_KEY = "transaction_id"


def silver_rows_of(batch_rows: DataFrame, silver: TableSpec, partition: str,
                   dates: Optional[list] = None) -> DataFrame:
    """The rows silver holds now for the keys of `batch_rows` (read from the batch's partitions only:
    `dates`, the values of `partition` in `batch_rows`, computed when not given)."""
    spark = batch_rows.sparkSession
    if dates is None:
        dates = [row[0] for row in batch_rows.select(partition).distinct().collect()]
    return (
        spark.read.format("delta").load(silver.path)
        .where(F.col(partition).isin(dates))
        .join(batch_rows.select(REVIEW_KEY), REVIEW_KEY, "left_semi")
    )


def review_changes(in_silver: DataFrame, review: TableSpec, flagged_at: Column) -> DataFrame:
    """Rows of `in_silver` that review must gain, update or lose: the flagged ones, and the others it holds."""
    spark = in_silver.sparkSession
    in_review = spark.read.format("delta").load(review.path).select(REVIEW_KEY, F.lit(True).alias("_in"))
    return (
        in_silver.join(in_review, REVIEW_KEY, "left")
        .where(F.coalesce("is_flagged", F.lit(False)) | F.col("_in").isNotNull())
        .transform(to_review_changes(flagged_at))
    )


def mirror_into_review(changes: DataFrame, review: TableSpec, txn: Optional[Txn],
                       table_ensured: bool = False) -> MergeOutcome:
    """One MERGE: flagged rows inserted or, when they differ (flagged_at aside), updated; the rest deleted.
    A conflict with another writer (an erasure, OPTIMIZE) is retried (lakehouse.sinks.retry).

    `changes` must be materialized (e.g. localCheckpoint()ed): Delta does not copy it again.
    `table_ensured`: the caller created the table already (ensure_table), so it is not checked again.
    """
    from delta.tables import DeltaTable

    spark = changes.sparkSession
    if not table_ensured:
        with phase("table_metadata"):
            ensure_table(spark, review)
    columns = FRAUD_REVIEW.fieldNames()
    values = {column: f"s.`{column}`" for column in columns}
    same_row = " AND ".join(f"t.`{column}` <=> s.`{column}`" for column in columns if column != "flagged_at")

    def attempt() -> MergeOutcome:  # planned again on the newest version after a conflict
        with phase("table_metadata"):
            before = table_version(spark, review.path)
        merge = (
            DeltaTable.forPath(spark, review.path).alias("t")
            .merge(changes.alias("s"), f"t.`{REVIEW_KEY}` = s.`{REVIEW_KEY}`")
            .whenMatchedDelete(condition="NOT s.is_flagged")
            .whenMatchedUpdate(condition=f"NOT ({same_row})", set=values)
            .whenNotMatchedInsert(condition="s.is_flagged", values=values)
        )
        with phase("execute_commit"), commit_options(spark, txn, None, {MATERIALIZE_SOURCE: "none"}):
            merge.execute()
        with phase("commit_lookup"):
            after = table_version(spark, review.path)
        return MergeOutcome(committed=after != before, table_version=after)

    return retry_conflicts(attempt, f"MERGE into {review.path}")
