"""Contract of the `transaction_events` topic: its payload, silver.transactions and the step between them.

The same transaction arrives again when its status changes: same `transaction_id`, later
`updated_at`. The newest `updated_at` wins in silver, whatever the arrival order. Amounts are
priced in USD and every version is scored by the fraud rules (the contract's capabilities).
"""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
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

from lakehouse.schemas.contract import Contract, Field, Transform
from lakehouse.sinks.delta import MergeSpec, content_hash
from lakehouse.transforms.columns import select_schema

CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD")
STATUSES = ("pending", "completed", "failed", "refunded")
# Two versions with the same updated_at: the later status wins, then the greater content hash.
STATUS_PRECEDENCE = "case {row}.`status` when 'pending' then 0 when 'refunded' then 2 else 1 end"

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


def with_transaction_columns(processed_at: Column) -> Transform:
    """Accepted, enriched and scored transaction versions -> the silver.transactions contract."""
    return select_schema(SILVER_TRANSACTIONS, transaction_date=F.to_date("transaction_timestamp"),
                         processed_at=processed_at.cast("timestamp"))


FIELDS = (
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
)

TRANSACTION_EVENTS = Contract(
    name="transaction_events",
    version="1.0",
    fields=FIELDS,
    record_key=("transaction_id", "updated_at"),
    silver_table="transactions",
    silver_schema=SILVER_TRANSACTIONS,
    silver_partition="transaction_date",
    merge=MergeSpec(keys=("transaction_id",), newer_column="updated_at", prune_column="transaction_date",
                    tie_breakers=(STATUS_PRECEDENCE, content_hash([f.name for f in FIELDS]))),
    shape=with_transaction_columns,
    not_before=(("created_at", "updated_at"),),
    needs_fx_rates=True,
    fraud_review=True,
)
