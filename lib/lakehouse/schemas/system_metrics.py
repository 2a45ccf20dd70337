"""Contract of the `system_metrics` topic: its payload, silver.system_metrics and the step between them.

A metric sample is identified by host, service, metric name and timestamp; a repeat is a duplicate,
inserted once.
"""
from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
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

from lakehouse.schemas.contract import Contract, Field, Transform
from lakehouse.sinks.delta import MergeSpec
from lakehouse.transforms.columns import select_schema

SAMPLE_KEY = ("host", "service", "metric_name", "metric_timestamp")

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


def with_metric_columns(processed_at: Column) -> Transform:
    """Accepted, parsed metric samples -> the silver.system_metrics contract."""
    return select_schema(SILVER_SYSTEM_METRICS, metric_date=F.to_date("metric_timestamp"),
                         processed_at=processed_at.cast("timestamp"))


SYSTEM_METRICS = Contract(
    name="system_metrics",
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
    record_key=SAMPLE_KEY,
    silver_table="system_metrics",
    silver_schema=SILVER_SYSTEM_METRICS,
    silver_partition="metric_date",
    merge=MergeSpec(keys=SAMPLE_KEY, insert_only=True, prune_column="metric_date", bounded_by=("metric_timestamp",)),
    shape=with_metric_columns,
)
