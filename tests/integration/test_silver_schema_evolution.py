"""A new optional contract field reaches silver as a new column; a retyped column is refused by name.

The throwaway page_views contract (tests/integration/test_contract_registry.py) writes silver first
as it is; then a version listing an optional `referrer` runs over new records carrying it, on the
same checkpoint: the table gains the column (older rows null), nothing is quarantined for it.
"""
from __future__ import annotations

import dataclasses

import pytest
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType, StringType, StructField, StructType

from lakehouse.kafka.producer import EventProducer
from lakehouse.schemas import CONTRACTS, Field
from lakehouse.sinks.delta import SchemaMismatch, TableSpec, ensure_table
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.silver import start_silver
from lakehouse.transforms.columns import select_schema
from tests.integration.streaming_support import bronze_options, silver_options, stream_config, table
from tests.integration.test_contract_registry import PAGE_VIEWS, SILVER_PAGE_VIEWS, view

# The contract's next version: `referrer` after `page_url`, optional (the table gets it at its end).
SILVER_WITH_REFERRER = StructType([*SILVER_PAGE_VIEWS.fields[:2], StructField("referrer", StringType()),
                                   *SILVER_PAGE_VIEWS.fields[2:]])


def with_referrer_columns(processed_at: Column):
    return select_schema(SILVER_WITH_REFERRER, view_date=F.to_date("viewed_at"),
                         processed_at=processed_at.cast("timestamp"))


PAGE_VIEWS_WITH_REFERRER = dataclasses.replace(
    PAGE_VIEWS, version="1.1", fields=(*PAGE_VIEWS.fields, Field("referrer", "text")),
    silver_schema=SILVER_WITH_REFERRER, shape=with_referrer_columns)


def run_round(spark, cfg, topic: str, values: list[bytes]) -> None:
    with EventProducer(cfg) as producer:
        for value in values:
            producer.send(topic, b"u1", value)
    start_bronze(spark, cfg, bronze_options("page_views")).wait(until_all_done=True)
    start_silver(spark, cfg, silver_options("page_views")).wait(until_all_done=True)


@pytest.mark.timeout(300)
def test_a_new_optional_field_becomes_a_silver_column(spark, tmp_path, new_topic, monkeypatch):
    topic = new_topic(prefix="page_views")
    monkeypatch.setitem(CONTRACTS, PAGE_VIEWS.name, PAGE_VIEWS)
    cfg = stream_config(tmp_path, {"page_views": topic})
    run_round(spark, cfg, topic, [view(view_id="v1"), view(view_id="v2", referrer="/early")])  # not known yet

    monkeypatch.setitem(CONTRACTS, PAGE_VIEWS.name, PAGE_VIEWS_WITH_REFERRER)
    run_round(spark, cfg, topic, [view(view_id="v3", referrer="/search", schema_version="1.1"),
                                  view(view_id="v4", referrer=None, schema_version="1.1")])  # edge: null

    silver = table(spark, cfg, "silver", "page_views")
    assert silver.columns == [*SILVER_PAGE_VIEWS.fieldNames(), "referrer"]
    assert sorted((r.view_id, r.referrer) for r in silver.collect()) == [
        ("v1", None), ("v2", None), ("v3", "/search"), ("v4", None)]
    assert table(spark, cfg, "quarantine", "page_views").count() == 0


def test_a_column_whose_type_changed_is_refused_with_its_name(spark, tmp_path):
    path = str(tmp_path / "amounts")
    ensure_table(spark, TableSpec(path, StructType([StructField("id", StringType()),
                                                    StructField("amount", DecimalType(10, 2))])))
    retyped = TableSpec(path, StructType([StructField("id", StringType()), StructField("amount", DecimalType(12, 2)),
                                          StructField("note", StringType())]))

    with pytest.raises(SchemaMismatch, match=r"amount: decimal\(10,2\) in the table, decimal\(12,2\) now"):
        ensure_table(spark, retyped)
    assert spark.read.format("delta").load(path).columns == ["id", "amount"]  # nothing added either
