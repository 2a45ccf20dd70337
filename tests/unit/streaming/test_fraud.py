"""The fraud rules: per-currency amount thresholds and per-user velocity across batches."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, StructField, StructType

from lakehouse.config.model import FraudConfig
from lakehouse.schemas.lake import FRAUD_REVIEW
from lakehouse.transforms.fraud import to_review_changes, with_fraud_flags

RULES = FraudConfig(amount_thresholds={"USD": 10000.0, "EUR": 9000.0}, velocity_max_transactions=2,
                    velocity_window_minutes=10)
BATCH = "transaction_id string, user_id string, amount decimal(10,2), currency string, transaction_timestamp timestamp"
KNOWN = "transaction_id string, user_id string, transaction_timestamp timestamp"
T0 = dt.datetime(2024, 6, 1, 12, 0)


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def flags(spark, batch_rows, history_rows=()):
    batch = spark.createDataFrame(list(batch_rows), BATCH)
    history = spark.createDataFrame(list(history_rows), KNOWN)
    return batch.transform(with_fraud_flags(history, RULES)).select("transaction_id", "is_flagged", "fraud_reasons")


def expected(spark, flagged: dict):
    rows = [(tid, bool(reasons), reasons) for tid, reasons in flagged.items()]
    return spark.createDataFrame(rows, "transaction_id string, is_flagged boolean, fraud_reasons array<string>")


def test_amounts_over_the_threshold_of_their_own_currency_are_flagged(spark):
    result = flags(spark, [
        ("a", "1", Decimal("10000.00"), "USD", minutes(0)),   # edge: equal to the threshold is fine
        ("b", "2", Decimal("10000.01"), "USD", minutes(0)),
        ("c", "3", Decimal("9500.00"), "EUR", minutes(0)),    # under the USD limit, over the EUR one
        ("d", "4", Decimal("99999.00"), "GBP", minutes(0)),   # no threshold for the currency
        ("e", "5", None, None, minutes(0)),                   # null row
    ])
    assert_df_equality(result, expected(spark, {
        "a": [], "b": ["amount_over_threshold"], "c": ["amount_over_threshold"], "d": [], "e": [],
    }), ignore_row_order=True, ignore_nullable=True)


def test_velocity_counts_the_window_ending_at_each_transaction_across_batches(spark):
    small = Decimal("5.00")
    history = [("h1", "9", minutes(-9)), ("h2", "9", minutes(-11)), ("old", "9", minutes(-60)),
               ("x1", "8", minutes(-1))]
    result = flags(spark, [
        ("b1", "9", small, "USD", minutes(0)),      # h1 + b1 = 2: not more than 2 (h2 is outside the window)
        ("b2", "9", small, "USD", minutes(0.5)),    # h1 + b1 + b2 = 3 > 2
        ("b3", "9", small, "USD", minutes(10)),     # edge: b1, b2, b3 = 3 (b1 exactly 10 minutes before)
        ("b4", "8", Decimal("20000.00"), "USD", minutes(0)),  # x1 + b4 = 2, but over the amount threshold
    ], history)
    assert_df_equality(result, expected(spark, {
        "b1": [], "b2": ["velocity"], "b3": ["velocity"], "b4": ["amount_over_threshold"],
    }), ignore_row_order=True, ignore_nullable=True)


def test_a_replayed_batch_already_in_history_scores_the_same(spark):
    batch = [("b1", "9", Decimal("5.00"), "USD", minutes(0)), ("b2", "9", Decimal("5.00"), "USD", minutes(1)),
             ("b3", "9", Decimal("5.00"), "USD", minutes(2))]
    want = expected(spark, {"b1": [], "b2": [], "b3": ["velocity"]})
    first = flags(spark, batch)
    replay = flags(spark, batch, history_rows=[(tid, user, ts) for tid, user, _, _, ts in batch])
    assert_df_equality(first, want, ignore_row_order=True, ignore_nullable=True)
    assert_df_equality(replay, want, ignore_row_order=True, ignore_nullable=True)


def test_review_changes_are_review_rows_that_say_whether_they_belong_in_review(spark):
    flagged_at = dt.datetime(2024, 6, 2)
    source = spark.createDataFrame([
        ("a", "1", Decimal("20000.00"), "USD", Decimal("20000.00"), "pending", minutes(0), minutes(1),
         ["amount_over_threshold"], True, 0, 7),
        ("b", "2", Decimal("1.00"), "USD", Decimal("1.00"), "pending", minutes(0), minutes(0), [], False, 0, 8),
        ("c", "3", None, None, None, None, None, None, [], None, 0, 9),      # null row: not flagged
    ], "transaction_id string, user_id string, amount decimal(10,2), currency string, amount_usd decimal(12,2), "
       "status string, transaction_timestamp timestamp, updated_at timestamp, fraud_reasons array<string>, "
       "is_flagged boolean, kafka_partition int, kafka_offset long")
    expected = spark.createDataFrame([
        ("a", "1", Decimal("20000.00"), "USD", Decimal("20000.00"), "pending", minutes(0), minutes(1),
         ["amount_over_threshold"], 0, 7, flagged_at, True),
        ("b", "2", Decimal("1.00"), "USD", Decimal("1.00"), "pending", minutes(0), minutes(0), [], 0, 8, flagged_at,
         False),
        ("c", "3", None, None, None, None, None, None, [], 0, 9, flagged_at, False),
    ], StructType([*FRAUD_REVIEW.fields, StructField("is_flagged", BooleanType())]))
    assert_df_equality(source.transform(to_review_changes(F.lit(flagged_at))), expected, ignore_nullable=True)


def test_transactions_without_a_user_or_a_time_neither_count_nor_are_counted(spark):
    small = Decimal("5.00")
    history = [("h1", "9", minutes(-1)), ("h_no_time", "9", None), (None, "9", minutes(-2))]
    result = flags(spark, [
        ("b1", "9", small, "USD", minutes(0)),      # h1 + b1 = 2: not more than 2, whatever has no time or id
        ("b2", "9", small, "USD", minutes(0.2)),    # h1 + b1 + b2 = 3 > 2
        ("b_no_time", "9", small, "USD", None),
        ("b_no_user", None, small, "USD", minutes(0)),
    ], history)
    assert_df_equality(result, expected(spark, {
        "b1": [], "b2": ["velocity"], "b_no_time": [], "b_no_user": [],
    }), ignore_row_order=True, ignore_nullable=True)
