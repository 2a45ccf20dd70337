"""Contract of the `transaction_events` topic and the schemas of silver.transactions and its review table.

The same transaction arrives again when its status changes: same `transaction_id`, later
`updated_at`. The newest `updated_at` wins in silver, whatever the arrival order.
"""
from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from lakehouse.schemas.contract import Contract, Field

CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD")
STATUSES = ("pending", "completed", "failed", "refunded")

TRANSACTION_EVENTS = Contract(
    name="transaction_events",
    silver_table="transactions",
    version="1.0",
    fields=(
        Field("transaction_id", "text", required=True),
        Field("user_id", "user_id", required=True),
        Field("amount", "decimal", required=True, precision=10, scale=2, minimum="0.01", maximum="1000000"),
        Field("currency", "enum", required=True, allowed=CURRENCIES),
        Field("status", "enum", required=True, allowed=STATUSES),
        Field("payment_method", "text"),
        Field("merchant_category", "text"),
        Field("transaction_timestamp", "timestamp", required=True),
        Field("created_at", "timestamp", required=True),
        Field("updated_at", "timestamp", required=True),
        Field("schema_version", "schema_version", required=True),
    ),
    record_key=("transaction_id", "updated_at"),
    not_before=(("created_at", "updated_at"),),
)

SILVER_TRANSACTIONS = StructType([
    StructField("transaction_id", StringType()),
    StructField("user_id", StringType()),
    StructField("amount", DecimalType(10, 2)),
    StructField("currency", StringType()),
    StructField("amount_usd", DecimalType(12, 2)),
    StructField("status", StringType()),
    StructField("payment_method", StringType()),
    StructField("merchant_category", StringType()),
    StructField("transaction_timestamp", TimestampType()),
    StructField("transaction_date", DateType()),
    StructField("created_at", TimestampType()),
    StructField("updated_at", TimestampType()),
    StructField("is_flagged", BooleanType()),
    StructField("fraud_reasons", ArrayType(StringType())),
    StructField("schema_version", StringType()),
    StructField("kafka_partition", IntegerType()),
    StructField("kafka_offset", LongType()),
    StructField("processed_at", TimestampType()),
])

# silver.fraud_review: the newest flagged version of each flagged transaction, for analysts.
FRAUD_REVIEW = StructType([
    StructField("transaction_id", StringType()),
    StructField("user_id", StringType()),
    StructField("amount", DecimalType(10, 2)),
    StructField("currency", StringType()),
    StructField("amount_usd", DecimalType(12, 2)),
    StructField("status", StringType()),
    StructField("transaction_timestamp", TimestampType()),
    StructField("updated_at", TimestampType()),
    StructField("fraud_reasons", ArrayType(StringType())),
    StructField("kafka_partition", IntegerType()),
    StructField("kafka_offset", LongType()),
    StructField("flagged_at", TimestampType()),
])
