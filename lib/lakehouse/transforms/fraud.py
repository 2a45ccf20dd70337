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

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, StructField, StructType

from lakehouse.config.model import FraudConfig
from lakehouse.schemas.lake import FRAUD_REVIEW
from lakehouse.transforms.columns import select_schema
from lakehouse.transforms.parsing import EXACT_DECIMAL

Transform = Callable[[DataFrame], DataFrame]

KNOWN_COLUMNS = ("transaction_id", "user_id", "transaction_timestamp")
MICROS_PER_MINUTE = 60_000_000


def with_fraud_flags(history: DataFrame, rules: FraudConfig) -> Transform:
    """Adds `fraud_reasons` (array, empty when clean) and `is_flagged`.

    Args:
        history: transactions known before this batch (transaction_id, user_id,
            transaction_timestamp), one row per transaction_id, e.g. silver rows of the batch's
            users. The batch's own rows replace history rows with the same id, so a replayed batch
            scores the same way. Rows without an id, a user or a time never count.
        rules: thresholds and the velocity rule.

    The input must hold one row per transaction_id (run dedupe_for_merge first).
    """

    def transform(df: DataFrame) -> DataFrame:
        countable = (F.col("transaction_id").isNotNull() & F.col("user_id").isNotNull()
                     & F.col("transaction_timestamp").isNotNull())
        known = history.select(*KNOWN_COLUMNS).where(countable).withColumn("_own", F.lit(False))
        rows = df.withColumn("_own", F.lit(True)).unionByName(known, allowMissingColumns=True)
        # A history row of a transaction the batch holds gives way to the batch's version.
        rows = (rows.withColumn("_replaced", F.max("_own").over(Window.partitionBy("transaction_id")))
                .where(F.col("_own") | ~F.col("_replaced")))
        # The user's transactions whose timestamp lies in [this one's - the window, this one's].
        window = (Window.partitionBy("user_id").orderBy(F.unix_micros("transaction_timestamp"))
                  .rangeBetween(-int(rules.velocity_window_minutes) * MICROS_PER_MINUTE, 0))
        scored = rows.withColumn("_velocity", F.when(countable, F.count(F.when(countable, 1)).over(window)))
        reasons = F.filter(
            F.array(
                F.when(is_over_threshold(rules), F.lit("amount_over_threshold")),
                F.when(F.coalesce("_velocity", F.lit(0)) > rules.velocity_max_transactions, F.lit("velocity")),
            ),
            lambda reason: reason.isNotNull(),
        )
        return (
            scored.where("_own")
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
