"""The MERGE's key filter (lakehouse.sinks.key_filter): the target rows it lets through hold every key
of the source, so a filtered MERGE writes exactly what an unfiltered one writes."""
from __future__ import annotations

import datetime as dt

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType, DoubleType, LongType, StringType, StructField, StructType

from lakehouse.sinks import key_filter
from lakehouse.sinks.delta import MergeSpec, TableSpec, merge_into
from lakehouse.sinks.key_filter import source_keys_filter
from lakehouse.streaming.silver_batch import handle_silver_batch
from lakehouse.transforms.parsing import parse_records
from tests.conftest import unique_name
from tests.integration.streaming_support import contract_plan
from tests.unit.streaming.conftest import bronze_df, payload

SCHEMA = StructType([
    StructField("id", StringType()),
    StructField("part", LongType()),
    StructField("value", StringType()),
    StructField("version", LongType()),
])
SEED = [("a", 1, "seed", 1), ("b", 1, "seed", 1), (None, 1, "seed", 1), ("c", None, "seed", 1), ("d", 2, "seed", 1)]
BATCH = [("a", 1, "batch", 2), ("b", 2, "batch", 2), (None, 1, "batch", 2), ("c", None, "batch", 2),
         ("e", 1, "batch", 2)]
SPECS = {
    "insert only, one key": MergeSpec(keys=["id"], insert_only=True),
    "insert only, two keys with nulls": MergeSpec(keys=["id", "part"], insert_only=True),
    "newest wins": MergeSpec(keys=["id", "part"], newer_column="version"),
}


@pytest.fixture
def every_table_large(monkeypatch):
    monkeypatch.setattr(key_filter, "MIN_TARGET_BYTES", 0)


def predicate_of_last_merge(spark, path: str) -> str:
    return (spark.sql(f"DESCRIBE HISTORY delta.`{path}`").where("operation = 'MERGE'").orderBy(F.desc("version"))
            .select("operationParameters.predicate").first()[0])


@pytest.mark.parametrize("name", sorted(SPECS))
def test_a_filtered_merge_writes_what_an_unfiltered_one_writes(spark, cfg, every_table_large, name):
    spec = SPECS[name]
    tables = {kind: TableSpec(cfg.lake.table_path("tests", unique_name(f"key-filter-{kind}")), SCHEMA)
              for kind in ("plain", "filtered")}
    batch = spark.createDataFrame(BATCH, SCHEMA).localCheckpoint()
    outcomes = {}
    for kind, table in tables.items():
        merge_into(spark.createDataFrame(SEED, SCHEMA), table, spec)
        outcomes[kind] = merge_into(batch, table, spec, source_is_materialized=True,
                                    source_rows=len(BATCH) if kind == "filtered" else None)

    assert "lakehouse_source_keys" in predicate_of_last_merge(spark, tables["filtered"].path)
    assert "lakehouse_source_keys" not in predicate_of_last_merge(spark, tables["plain"].path)
    assert outcomes["filtered"] == outcomes["plain"]
    read = {kind: spark.read.format("delta").load(table.path) for kind, table in tables.items()}
    assert_df_equality(read["filtered"], read["plain"], ignore_row_order=True)


def test_the_filter_lets_every_source_key_through_and_few_others(spark):
    def keys(count: int):
        return spark.range(count).select(F.concat(F.lit("key-"), F.col("id").cast("string")).alias("id"))

    source, target = keys(2_000).localCheckpoint(), keys(20_000)
    schema = StructType([StructField("id", StringType())])

    predicate = source_keys_filter(source, ["id"], schema, target_bytes=2**40, source_rows=2_000)

    through = target.alias("t").where(predicate)
    assert through.where("CAST(substring(id, 5) AS INT) < 2000").count() == 2_000
    assert through.count() - 2_000 < 18_000 * 3 * key_filter.FALSE_POSITIVE_RATE


@pytest.mark.parametrize(("source_type", "target_type", "target_bytes", "why"), [
    (LongType(), LongType(), key_filter.MIN_TARGET_BYTES - 1, "a small target"),
    (LongType(), DecimalType(20, 0), 2**40, "a key typed differently"),
    (DoubleType(), DoubleType(), 2**40, "a floating-point key: 0.0 and -0.0 are equal but hash apart"),
])
def test_no_filter_where_it_would_not_pay_or_not_be_exact(spark, source_type, target_type, target_bytes, why):
    source = spark.range(1).select(F.lit(1).cast(source_type).alias("k"))
    target = StructType([StructField("k", target_type)])

    assert source_keys_filter(source, ["k"], target, target_bytes, source_rows=1) is None, why


def test_silvers_merge_filters_the_target_by_the_batchs_keys(spark, tmp_path, every_table_large):
    plan = contract_plan(spark, tmp_path, "user_events")
    event = {"event_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "user_id": "42", "event_type": "login",
             "event_timestamp": "2024-05-31T10:00:00Z", "schema_version": "1.0"}
    later = {**event, "event_id": "1f8fad5b-d9cb-469f-a165-70867728950e"}
    parse = parse_records(plan.contract, 1_000_000)
    handle_silver_batch(bronze_df(spark, [payload(**event)]).transform(parse), 0, plan)

    report = handle_silver_batch(bronze_df(spark, [payload(**event), payload(**later)], partition=1,
                                           ingested_at=dt.datetime(2024, 6, 1)).transform(parse), 1, plan)

    assert (report.rows_in, report.inserted) == (2, 1)
    assert "lakehouse_source_keys" in predicate_of_last_merge(spark, plan.silver.path)
    held = spark.read.format("delta").load(plan.silver.path).groupBy("event_id").count()
    assert sorted((row.event_id, row["count"]) for row in held.collect()) == [(event["event_id"], 1),
                                                                              (later["event_id"], 1)]
