"""Schemas of the tables around the silver contracts: bronze, quarantine, and the tables of the
contracts' capabilities (the FX reference rates, the fraud review)."""
from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

# The Kafka topic id (KIP-516) of the incarnation a record was read from: a topic deleted and created
# again restarts its offsets at 0 under a new id. Null in rows written before ids were recorded.
TOPIC_ID = StructField("topic_id", StringType())

# bronze.<topic>: one row per Kafka record, exactly as read; append-only, partitioned by ingest_date.
BRONZE = StructType([
    StructField("topic", StringType()),
    StructField("kafka_partition", IntegerType()),
    StructField("kafka_offset", LongType()),
    StructField("kafka_timestamp", TimestampType()),
    StructField("kafka_timestamp_type", IntegerType()),
    StructField("key", BinaryType()),
    StructField("value", BinaryType()),
    StructField("headers", ArrayType(StructType([
        StructField("key", StringType()),
        StructField("value", BinaryType()),
    ]))),
    StructField("ingested_at", TimestampType()),
    StructField("ingest_date", DateType()),
    TOPIC_ID,
])

# quarantine.<topic>: every record silver refused, with its reasons and where it is in Kafka and bronze.
QUARANTINE = StructType([
    StructField("topic", StringType()),
    StructField("kafka_partition", IntegerType()),
    StructField("kafka_offset", LongType()),
    StructField("kafka_timestamp", TimestampType()),
    StructField("key", BinaryType()),
    StructField("value", BinaryType()),       # null when over streaming.max_record_bytes: read bronze
    StructField("value_bytes", IntegerType()),
    StructField("reasons", ArrayType(StringType())),
    StructField("schema_version", StringType()),
    StructField("ingested_at", TimestampType()),
    StructField("ingest_date", DateType()),
    StructField("quarantined_at", TimestampType()),
    TOPIC_ID,
])

# reference.fx_rates: USD value of one unit of a currency, valid from rate_date until the next row.
FX_RATES = StructType([
    StructField("currency", StringType()),
    StructField("rate_date", DateType()),
    StructField("usd_per_unit", DecimalType(18, 8)),
])

# silver.fraud_review: the newest flagged version of each flagged transaction, for analysts
# (contracts with the fraud_review capability).
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
