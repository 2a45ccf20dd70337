"""Contract of the `system_metrics` topic and the schema of silver.system_metrics.

A metric sample is identified by host, service, metric name and timestamp; a repeat is a duplicate.
"""
from __future__ import annotations

from pyspark.sql.types import (
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from lakehouse.schemas.contract import Contract, Field

SYSTEM_METRICS = Contract(
    name="system_metrics",
    silver_table="system_metrics",
    version="1.0",
    fields=(
        Field("host", "text", required=True),
        Field("service", "text", required=True),
        Field("metric_name", "text", required=True),
        Field("metric_value", "double", required=True),
        Field("unit", "text"),
        Field("metric_timestamp", "timestamp", required=True),
        Field("tags", "string_map"),
        Field("schema_version", "schema_version", required=True),
    ),
    record_key=("host", "service", "metric_name", "metric_timestamp"),
)

SILVER_SYSTEM_METRICS = StructType([
    StructField("host", StringType()),
    StructField("service", StringType()),
    StructField("metric_name", StringType()),
    StructField("metric_value", DoubleType()),
    StructField("unit", StringType()),
    StructField("metric_timestamp", TimestampType()),
    StructField("metric_date", DateType()),
    StructField("tags", MapType(StringType(), StringType())),
    StructField("schema_version", StringType()),
    StructField("kafka_partition", IntegerType()),
    StructField("kafka_offset", LongType()),
    StructField("processed_at", TimestampType()),
])
