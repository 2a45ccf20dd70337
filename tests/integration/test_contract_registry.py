"""A topic is one contract: a throwaway one, registered by the test alone, runs through bronze and silver.

The contract (page views: an id, a timestamp) is added to the registry with monkeypatch, mapped to a
throwaway topic on the real local broker, and the library's own bronze and silver run it unchanged:
its rows land in silver.page_views (partitioned and merged as the contract says), its bad records in
quarantine.page_views. No library file names it.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, IntegerType, LongType, StringType, StructField, StructType, TimestampType

from lakehouse.kafka.producer import EventProducer
from lakehouse.schemas import CONTRACTS, Contract, Field
from lakehouse.sinks.delta import MergeSpec
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.silver import start_silver
from lakehouse.transforms.columns import select_schema
from tests.integration.streaming_support import bronze_options, silver_options, stream_config, table

SILVER_PAGE_VIEWS = StructType([
    StructField("view_id", StringType()),
    StructField("page_url", StringType()),
    StructField("viewed_at", TimestampType()),
    StructField("view_date", DateType()),
    StructField("schema_version", StringType()),
    StructField("kafka_partition", IntegerType()),
    StructField("kafka_offset", LongType()),
    StructField("processed_at", TimestampType()),
])


def with_page_view_columns(processed_at: Column):
    return select_schema(SILVER_PAGE_VIEWS, view_date=F.to_date("viewed_at"),
                         processed_at=processed_at.cast("timestamp"))


PAGE_VIEWS = Contract(
    name="page_views",
    version="1.0",
    fields=(
        Field("view_id", "text", required=True),
        Field("page_url", "text"),
        Field("viewed_at", "timestamp", required=True),
        Field("schema_version", "schema_version", required=True),
    ),
    record_key=("view_id",),
    silver_table="page_views",
    silver_schema=SILVER_PAGE_VIEWS,
    silver_partition="view_date",
    merge=MergeSpec(keys=("view_id",), insert_only=True, prune_column="view_date"),
    shape=with_page_view_columns,
)


def view(**fields) -> bytes:
    return json.dumps({"view_id": "v1", "page_url": "/", "viewed_at": "2024-06-01T10:00:00Z",
                       "schema_version": "1.0", **fields}).encode()


@pytest.fixture
def page_views(monkeypatch):
    """The registry with page_views in it, for this test only."""
    monkeypatch.setitem(CONTRACTS, PAGE_VIEWS.name, PAGE_VIEWS)
    return PAGE_VIEWS


def test_a_registered_contract_runs_through_bronze_and_silver(spark, tmp_path, new_topic, page_views):
    topic = new_topic(prefix="page_views")
    cfg = stream_config(tmp_path, {"page_views": topic})  # validated against the registry
    values = [
        view(),
        view(view_id="v2", viewed_at="2024-06-01T23:59:59.999Z", page_url=None),  # edge: last ms of the day
        view(),                                                                   # a repeat: inserted once
        b'{"view_id": "v3", ',
        view(view_id="v4", viewed_at="yesterday"),
        json.dumps({"page_url": "/", "viewed_at": "2024-06-01T10:00:00Z", "schema_version": "1.0"}).encode(),
    ]
    with EventProducer(cfg) as producer:
        for value in values:
            producer.send(topic, b"u1", value)

    start_bronze(spark, cfg, bronze_options("page_views")).wait(until_all_done=True)
    start_silver(spark, cfg, silver_options("page_views")).wait(until_all_done=True)

    assert table(spark, cfg, "bronze", "page_views").count() == len(values)
    silver = table(spark, cfg, "silver", "page_views")
    assert sorted((r.view_id, r.page_url, r.view_date, r.kafka_offset) for r in silver.collect()) == [
        ("v1", "/", dt.date(2024, 6, 1), 0), ("v2", None, dt.date(2024, 6, 1), 1)]
    quarantined = table(spark, cfg, "quarantine", "page_views").collect()
    assert sorted((r.kafka_offset, r.reasons) for r in quarantined) == [
        (3, ["malformed_json"]), (4, ["wrong_type:viewed_at"]), (5, ["missing_field:view_id"])]
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{cfg.lake.table_path('silver', 'page_views')}`").first()
    assert detail.partitionColumns == ["view_date"]
