"""silver.transactions rows: FX enrichment, newest version per transaction, the silver contract."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from chispa import assert_df_equality
from pyspark.sql import functions as F

from lakehouse.schemas.lake import FX_RATES
from lakehouse.schemas.transaction_events import SILVER_TRANSACTIONS, TRANSACTION_EVENTS, with_transaction_columns
from lakehouse.transforms.dedup import dedupe_for_merge
from lakehouse.transforms.transactions import enrich_amount_usd

D = Decimal
RATES = [
    ("EUR", dt.date(2024, 1, 1), D("1.10000000")),
    ("EUR", dt.date(2024, 6, 1), D("1.20000000")),
    ("GBP", dt.date(2024, 1, 1), D("1.25000000")),
    ("GBP", dt.date(2024, 1, 1), D("1.30000000")),  # a repeated day: the larger rate is used
]
ACCEPTED = ("topic string, kafka_partition int, kafka_offset long, transaction_id string, amount decimal(10,2), "
            "currency string, transaction_timestamp timestamp, reasons array<string>")



def test_amount_usd_uses_the_rate_in_force_on_the_transaction_date(spark):
    rates = spark.createDataFrame(RATES, FX_RATES)
    rows = [
        ("t", 0, 1, "a", D("100.00"), "EUR", dt.datetime(2024, 5, 31, 23, 59, 59), []),  # edge: last day of old rate
        ("t", 0, 2, "b", D("100.00"), "EUR", dt.datetime(2024, 6, 1, 0, 0), []),          # edge: first day of new rate
        ("t", 0, 3, "c", D("0.01"), "GBP", dt.datetime(2024, 6, 1), []),                 # rounds half-up: 0.013
        ("t", 0, 4, "d", D("10.00"), "AUD", dt.datetime(2024, 6, 1), []),                # no AUD rate: quarantine
        ("t", 0, 5, "e", D("10.00"), "EUR", dt.datetime(2023, 12, 31), []),              # before the first rate
        ("t", 0, 6, None, None, None, None, ["malformed_json"]),                         # null row: already rejected
    ]
    enriched = spark.createDataFrame(rows, ACCEPTED).transform(enrich_amount_usd(rates))
    expected = spark.createDataFrame(
        [(*row[:7], usd, reasons) for row, usd, reasons in zip(rows, [
            D("110.00"), D("120.00"), D("0.01"), None, None, None,
        ], [[], [], [], ["fx_rate_missing"], ["fx_rate_missing"], ["malformed_json"]])],
        ACCEPTED.replace(", reasons", ", amount_usd decimal(12,2), reasons"),
    )
    assert_df_equality(enriched, expected, ignore_row_order=True, ignore_nullable=True)


def test_the_newest_version_of_a_transaction_wins_whatever_the_arrival_order(spark):
    schema = ("transaction_id string, status string, updated_at timestamp, kafka_partition int, kafka_offset long, "
              "user_id string, amount decimal(10,2), currency string, payment_method string, "
              "merchant_category string, transaction_timestamp timestamp, created_at timestamp, schema_version string")
    fields = ("7", D("5.00"), "EUR", "card", "games", dt.datetime(2024, 6, 1, 12), dt.datetime(2024, 6, 1, 12), "1.0")
    rows = [(*version, *fields) for version in (
        ("a", "refunded", dt.datetime(2024, 6, 1, 14), 0, 1),   # the newest arrived first
        ("a", "pending", dt.datetime(2024, 6, 1, 12), 0, 2),
        ("a", "completed", dt.datetime(2024, 6, 1, 13), 0, 3),
        ("b", "pending", dt.datetime(2024, 6, 1, 12), 0, 4),    # edge: the same version twice
        ("b", "pending", dt.datetime(2024, 6, 1, 12), 0, 5),
    )]
    deduped = spark.createDataFrame(rows, schema).transform(dedupe_for_merge(TRANSACTION_EVENTS.merge))
    expected = spark.createDataFrame([rows[0], rows[4]], schema)
    assert_df_equality(deduped, expected, ignore_row_order=True)


def test_transaction_rows_follow_the_silver_contract(spark):
    processed = dt.datetime(2024, 6, 2)
    ts = dt.datetime(2024, 6, 1, 23, 59, 59, 999999)
    midnight = dt.datetime(2024, 6, 2)
    source = spark.createDataFrame(
        [("txn-1", "7", D("1000000.00"), "USD", D("1000000.00"), "completed", None, None, ts, ts, ts,
          True, ["amount_over_threshold"], "1.0", 2, 10, []),  # edge: the largest amount, last microsecond of a day
         ("txn-2", "8", D("0.01"), "EUR", D("0.01"), "pending", "card", "games", midnight, midnight, midnight,
          False, [], "1.1", 0, 0, [])],  # every optional field set, the smallest amount
        "transaction_id string, user_id string, amount decimal(10,2), currency string, amount_usd decimal(12,2), "
        "status string, payment_method string, merchant_category string, transaction_timestamp timestamp, "
        "created_at timestamp, updated_at timestamp, is_flagged boolean, fraud_reasons array<string>, "
        "schema_version string, kafka_partition int, kafka_offset long, reasons array<string>",
    )
    rows = source.transform(with_transaction_columns(F.lit(processed)))
    expected = spark.createDataFrame(
        [("txn-1", "7", D("1000000.00"), "USD", D("1000000.00"), "completed", None, None, ts, dt.date(2024, 6, 1),
          ts, ts, True, ["amount_over_threshold"], "1.0", 2, 10, processed),
         ("txn-2", "8", D("0.01"), "EUR", D("0.01"), "pending", "card", "games", midnight, dt.date(2024, 6, 2),
          midnight, midnight, False, [], "1.1", 0, 0, processed)],
        SILVER_TRANSACTIONS,
    )
    assert_df_equality(rows, expected, ignore_row_order=True, ignore_nullable=True)
