"""Fraud rules, applied to every transaction version written to silver.transactions.

- amount_over_threshold: the amount exceeds `streaming.fraud.amount_thresholds[currency]`, in the
  transaction's own currency (a per-currency limit, so a rate change does not move it).
- velocity: the user has more than `velocity_max_transactions` distinct transactions whose
  transaction_timestamp lies in the `velocity_window_minutes` ending at this transaction's own
  timestamp (bounds included, the transaction itself counted). The count spans micro-batches:
  it uses the transactions silver already holds for the batch's users plus the batch itself.

A version is scored when it is written, with what is known then; a status update is scored again.
A transaction that arrives late counts for the versions scored after it, not retroactively.
Flagged versions stay in silver (is_flagged, fraud_reasons); silver.fraud_review holds a copy of
each flagged row silver holds (lakehouse.streaming.review), nothing else.
"""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, StructField, StructType

from lakehouse.config.model import FraudConfig
from lakehouse.schemas.lake import FRAUD_REVIEW
from lakehouse.transforms.columns import select_schema
from lakehouse.transforms.parsing import EXACT_DECIMAL

Transform = Callable[[DataFrame], DataFrame]

KNOWN_COLUMNS = ("transaction_id", "user_id", "transaction_timestamp")


def with_fraud_flags(history: DataFrame, rules: FraudConfig) -> Transform:
    """Adds `fraud_reasons` (array, empty when clean) and `is_flagged`.

    Args:
        history: transactions known before this batch (transaction_id, user_id,
            transaction_timestamp), e.g. silver rows of the batch's users. The batch's own rows
            replace history rows with the same id, so a replayed batch scores the same way.
        rules: thresholds and the velocity rule.

    The input must hold one row per transaction_id (run dedupe_for_merge first).
    """

    def transform(df: DataFrame) -> DataFrame:
        own = df.select(*KNOWN_COLUMNS)
        known = history.select(*KNOWN_COLUMNS).join(own.select("transaction_id"), "transaction_id", "left_anti")
        known = known.unionByName(own).select(
            F.col("transaction_id").alias("_known_id"),
            F.col("user_id").alias("_known_user"),
            F.col("transaction_timestamp").alias("_known_at"),
        )
        scored = own.select(F.col("transaction_id").alias("_id"), F.col("user_id").alias("_user"),
                            F.col("transaction_timestamp").alias("_at"))
        window_start = F.col("_at") - F.expr(f"INTERVAL {int(rules.velocity_window_minutes)} MINUTES")
        in_window = (
            (F.col("_known_user") == F.col("_user"))
            & (F.col("_known_at") <= F.col("_at"))
            & (F.col("_known_at") >= window_start)
        )
        velocity = scored.join(known, in_window).groupBy("_id").agg(F.countDistinct("_known_id").alias("_velocity"))
        reasons = F.filter(
            F.array(
                F.when(is_over_threshold(rules), F.lit("amount_over_threshold")),
                F.when(F.coalesce("_velocity", F.lit(0)) > rules.velocity_max_transactions, F.lit("velocity")),
            ),
            lambda reason: reason.isNotNull(),
        )
        return (
            df.join(velocity, df["transaction_id"] == velocity["_id"], "left")
            .select(*df.columns, reasons.alias("fraud_reasons"))
            .withColumn("is_flagged", F.size("fraud_reasons") > 0)
        )

    return transform


def is_over_threshold(rules: FraudConfig) -> Column:
    """amount > the threshold of its currency; false for a currency without a threshold."""
    pairs = [part for currency, limit in sorted(rules.amount_thresholds.items())
             for part in (F.lit(currency), F.lit(str(limit)).cast(EXACT_DECIMAL))]
    threshold = F.create_map(*pairs)[F.col("currency")]
    return F.coalesce(F.col("amount") > threshold, F.lit(False))


def to_review_changes(flagged_at: Column) -> Transform:
    """silver.transactions rows -> the silver.fraud_review contract plus `is_flagged` (a null flag
    counts as not flagged): a flagged row belongs in review, any other leaves it."""
    return select_schema(StructType([*FRAUD_REVIEW.fields, StructField("is_flagged", BooleanType())]),
                         flagged_at=flagged_at.cast("timestamp"),
                         is_flagged=F.coalesce(F.col("is_flagged"), F.lit(False)))
