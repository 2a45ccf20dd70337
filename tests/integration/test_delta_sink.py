"""The shared Delta writers on real Delta tables: dedup, newest wins, replays, commit metadata, overwrite."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable
from pyspark.sql.types import DateType, LongType, StringType, StructField, StructType

from lakehouse.sinks.delta import (
    MergeSpec,
    TableSpec,
    Txn,
    ensure_table,
    last_txn_version,
    merge_condition,
    merge_into,
    overwrite_with,
)
from tests.conftest import unique_name

SCHEMA = StructType([
    StructField("id", StringType()),
    StructField("value", StringType()),
    StructField("version", LongType()),
    StructField("day", DateType()),
])
D1, D2 = dt.date(2024, 1, 31), dt.date(2024, 2, 1)


@pytest.fixture
def table(cfg) -> TableSpec:
    return TableSpec(cfg.lake.table_path("tests", unique_name("merge")), SCHEMA, partition_by=("day",))


def latest_user_metadata(spark, path: str):
    """The JSON user metadata of the table's newest commit that has any, or None (also with no table)."""
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    found = (spark.sql(f"DESCRIBE HISTORY delta.`{path}`").where("userMetadata IS NOT NULL")
             .orderBy("version", ascending=False).select("userMetadata").first())
    return json.loads(found[0]) if found else None


def rows(spark, *data):
    return spark.createDataFrame(list(data), SCHEMA)


def read(spark, table):
    return spark.read.format("delta").load(table.path)


def table_files(table) -> list[Path]:
    return list(Path(table.path).glob("*/*.parquet"))


def test_insert_only_merge_keeps_the_first_copy_of_each_key(spark, table):
    spec = MergeSpec(keys=["id"], insert_only=True)
    merge_into(rows(spark, ("a", "first", 1, D1), ("b", None, 1, D1)), table, spec)
    outcome = merge_into(rows(spark, ("a", "second", 2, D1), ("c", "new", 1, D2)), table, spec)

    assert (outcome.inserted, outcome.updated) == (1, 0)
    expected = rows(spark, ("a", "first", 1, D1), ("b", None, 1, D1), ("c", "new", 1, D2))
    assert_df_equality(read(spark, table), expected, ignore_row_order=True)


def test_a_key_with_a_null_column_meets_its_replay(spark, table):
    """Keys compare null-safe: quarantine rows written before topic ids were recorded (null) are
    matched when a replay writes them again."""
    spec = MergeSpec(keys=["id", "value"], insert_only=True)
    merge_into(rows(spark, ("a", None, 1, D1)), table, spec)
    replay = merge_into(rows(spark, ("a", None, 2, D1), ("a", "x", 1, D1)), table, spec)

    assert replay.inserted == 1
    assert_df_equality(read(spark, table), rows(spark, ("a", None, 1, D1), ("a", "x", 1, D1)), ignore_row_order=True)


def test_ensure_table_adds_a_new_schema_column_to_an_existing_table(spark, table):
    merge_into(rows(spark, ("a", "v1", 1, D1)), table, MergeSpec(keys=["id"]))
    wider = TableSpec(table.path, StructType([*SCHEMA.fields, StructField("topic_id", StringType())]), ("day",))
    ensure_table(spark, wider)
    ensure_table(spark, wider)  # a second start finds the column there

    assert read(spark, table).collect() == [("a", "v1", 1, D1, None)]


def test_newest_version_wins_whatever_the_arrival_order(spark, table):
    spec = MergeSpec(keys=["id"], newer_column="version")
    merge_into(rows(spark, ("a", "v2", 2, D1)), table, spec)
    late_old = merge_into(rows(spark, ("a", "v1", 1, D1), ("b", "v1", 1, D2)), table, spec)
    merge_into(rows(spark, ("a", "v3", 3, D1)), table, spec)

    assert (late_old.inserted, late_old.updated) == (1, 0)
    expected = rows(spark, ("a", "v3", 3, D1), ("b", "v1", 1, D2))
    assert_df_equality(read(spark, table), expected, ignore_row_order=True)


def test_a_replayed_batch_is_skipped_with_a_transaction_id_and_regresses_without(spark, table):
    spec = MergeSpec(keys=["id"])  # matched rows always replaced: replays are not naturally harmless
    batch_0 = rows(spark, ("a", "old", 1, D1))
    batch_1 = rows(spark, ("a", "new", 2, D1))
    app_id = unique_name("app")
    merge_into(batch_0, table, spec, Txn(app_id, 0))
    merge_into(batch_1, table, spec, Txn(app_id, 1))

    replay = merge_into(batch_0, table, spec, Txn(app_id, 0))
    assert not replay.committed
    assert [r.value for r in read(spark, table).collect()] == ["new"]
    assert last_txn_version(spark, table.path, app_id) == 1

    merge_into(batch_0, table, spec)  # the same replay without the identifier
    assert [r.value for r in read(spark, table).collect()] == ["old"]


def test_user_metadata_lands_in_the_same_commit_as_the_data(spark, table):
    spec = MergeSpec(keys=["id"])
    assert latest_user_metadata(spark, table.path) is None
    outcome = merge_into(rows(spark, ("a", "x", 1, D1)), table, spec, user_metadata={"cursor": [5, "a"]})
    history = spark.sql(f"DESCRIBE HISTORY delta.`{table.path}`").where(f"version = {outcome.table_version}")
    assert history.select("operation").first()[0] == "MERGE"
    assert latest_user_metadata(spark, table.path) == {"cursor": [5, "a"]}
    assert spark.conf.get("spark.databricks.delta.commitInfo.userMetadata", None) is None


def test_pruning_names_only_the_source_partitions_and_merges_the_same(spark, table):
    spec = MergeSpec(keys=["id"], newer_column="version", prune_column="day")
    merge_into(rows(spark, ("a", "v1", 1, D1), ("b", "v1", 1, D2)), table, spec)
    source = rows(spark, ("a", "v2", 2, D1))
    assert merge_condition(source, spec) == "t.`id` <=> s.`id` AND t.`day` IN ('2024-01-31')"
    merge_into(source, table, spec)
    expected = rows(spark, ("a", "v2", 2, D1), ("b", "v1", 1, D2))
    assert_df_equality(read(spark, table), expected, ignore_row_order=True)


def test_a_bounded_key_column_limits_the_read_to_the_source_range_and_replays_still_meet_their_rows(spark, table):
    """`bounded_by`: the target rows read are those inside the source's [first, last] of the column,
    so Delta never opens a file whose statistics lie outside (here: one deleted behind its back);
    a copy of a source row lies inside, so a replay without transaction id inserts nothing twice."""
    spec = MergeSpec(keys=["id", "version"], insert_only=True, prune_column="day", bounded_by=("version",))
    merge_into(rows(spark, ("a", "old", 1, D1), ("b", "old", 2, D1)), table, spec)
    old_files = set(table_files(table))
    merge_into(rows(spark, ("c", "first", 10, D1)), table, spec)
    source = rows(spark, ("c", "again", 10, D1), ("d", "new", 11, D1))
    assert merge_condition(source, spec) == ("t.`id` <=> s.`id` AND t.`version` <=> s.`version` AND "
                                             "t.`day` IN ('2024-01-31') AND "
                                             "t.`version` BETWEEN CAST('10' AS bigint) AND CAST('11' AS bigint)")
    for path in old_files:
        path.unlink()  # a MERGE opening them would fail

    outcome = merge_into(source, table, spec)

    assert (outcome.inserted, outcome.updated) == (1, 0)
    kept = read(spark, table).where("version >= 10")
    assert_df_equality(kept, rows(spark, ("c", "first", 10, D1), ("d", "new", 11, D1)), ignore_row_order=True)
    with pytest.raises(Exception, match=r"(?i)FileNotFound|does not exist|FILE_NOT_EXIST"):
        merge_into(rows(spark, ("e", "x", 12, D1)), table, dataclasses.replace(spec, bounded_by=()))


def test_a_null_in_a_bounded_key_column_still_meets_its_replay(spark, table):
    spec = MergeSpec(keys=["id", "version"], insert_only=True, bounded_by=("version",))
    merge_into(rows(spark, ("a", "first", None, D1), ("b", "first", 5, D1)), table, spec)
    source = rows(spark, ("a", "again", None, D1), ("b", "again", 5, D1), ("c", "new", None, D2))
    assert merge_condition(source, spec).endswith(
        "AND (t.`version` BETWEEN CAST('5' AS bigint) AND CAST('5' AS bigint) OR t.`version` IS NULL)")

    outcome = merge_into(source, table, spec)

    assert outcome.inserted == 1
    expected = rows(spark, ("a", "first", None, D1), ("b", "first", 5, D1), ("c", "new", None, D2))
    assert_df_equality(read(spark, table), expected, ignore_row_order=True)


def test_a_bounded_column_must_be_a_key():
    with pytest.raises(ValueError, match=r"bounded_by.*not a key: day"):
        MergeSpec(keys=["id"], insert_only=True, bounded_by=("day",))


def test_an_empty_source_prunes_everything_and_changes_nothing(spark, table):
    spec = MergeSpec(keys=["id"], prune_column="day")
    merge_into(rows(spark, ("a", "v1", 1, D1)), table, spec)
    empty = rows(spark)
    assert merge_condition(empty, spec).endswith("AND false")
    merge_into(empty, table, spec)
    assert read(spark, table).count() == 1


def test_overwrite_leaves_the_target_equal_to_the_source_in_one_idempotent_commit(spark, table):
    merge_into(rows(spark, ("a", "v1", 1, D1), ("b", "v1", 1, D1), ("c", None, 1, D2)), table, MergeSpec(keys=["id"]))
    complete = rows(spark, ("a", "v2", 2, D1), ("d", "new", 1, D2))
    app_id = unique_name("refresh")

    outcome = overwrite_with(complete, table, Txn(app_id, 0), user_metadata={"position": [7, "d"]})
    replay = overwrite_with(rows(spark, ("z", "stale", 1, D1)), table, Txn(app_id, 0))

    assert outcome.committed
    assert not replay.committed
    assert replay.table_version == outcome.table_version
    assert_df_equality(read(spark, table), complete, ignore_row_order=True)
    assert latest_user_metadata(spark, table.path) == {"position": [7, "d"]}
    assert last_txn_version(spark, table.path, app_id) == 0
    partitions = spark.sql(f"DESCRIBE DETAIL delta.`{table.path}`").first()["partitionColumns"]
    assert partitions == ["day"]


def test_overwrite_creates_an_absent_table_in_its_own_commit_with_the_spec(spark, cfg):
    """A first load is one commit: the spec's columns (nullable, without the source's field metadata),
    partitions and properties, the rows and the transaction; the session's defaults are restored."""
    spec = TableSpec(cfg.lake.table_path("tests", unique_name("created")), SCHEMA, partition_by=("day",),
                     properties={"delta.dataSkippingStatsColumns": "id,version"})
    source = rows(spark, ("a", "v1", 1, D1))
    tagged = source.withMetadata("id", {"scale": 0})  # as a JDBC read's fields have
    app_id = unique_name("first-load")

    outcome = overwrite_with(tagged, spec, Txn(app_id, 0), user_metadata={"position": 1})

    assert outcome.committed
    assert outcome.table_version == 0
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{spec.path}`").first()
    assert detail["partitionColumns"] == ["day"]
    assert detail["properties"] == {"delta.dataSkippingStatsColumns": "id,version"}
    assert [(f.name, f.nullable, f.metadata) for f in read(spark, spec).schema] == [
        (f.name, True, {}) for f in SCHEMA]
    assert_df_equality(read(spark, spec), source, ignore_row_order=True, ignore_nullable=True)
    assert last_txn_version(spark, spec.path, app_id) == 0
    assert spark.conf.get("spark.databricks.delta.properties.defaults.dataSkippingStatsColumns", None) is None


def test_equal_updated_at_gives_the_same_silver_row_in_any_order_and_batching(spark, cfg):
    """Two versions of a transaction with one updated_at: one batch, or two batches in either order,
    leave the same row (the contract's order: updated_at, then status, then content)."""
    from lakehouse.schemas import CONTRACTS
    from lakehouse.transforms.dedup import dedupe_newest_version

    merge = CONTRACTS["transaction_events"].merge
    at = dt.datetime(2024, 6, 1, 10, 0)
    schema = ("transaction_id string, user_id string, amount decimal(10,2), currency string, status string, "
              "payment_method string, merchant_category string, transaction_timestamp timestamp, "
              "created_at timestamp, updated_at timestamp, schema_version string, transaction_date date, "
              "kafka_partition int, kafka_offset long")

    def version(key: str, status: str, amount: str, offset: int) -> tuple:
        return (key, "7", Decimal(amount), "EUR", status, "card", "games", at, at, at, "1.0", at.date(), 0, offset)

    versions = [version("a", "completed", "5.00", 1), version("a", "refunded", "5.00", 2),
                version("b", "completed", "7.00", 3), version("b", "completed", "8.00", 4)]
    batchings = {"one batch": [versions], "in order": [versions[::2], versions[1::2]],
                 "reversed": [versions[1::2], versions[::2]]}
    outcomes = {}
    for name, batches in batchings.items():
        spec = TableSpec(cfg.lake.table_path("tests", unique_name("ties")), spark.createDataFrame([], schema).schema,
                         partition_by=("transaction_date",))
        for batch in batches:
            source = spark.createDataFrame(batch, schema).transform(dedupe_newest_version(merge))
            merge_into(source, spec, merge)
        outcomes[name] = sorted((r.transaction_id, r.status, r.amount) for r in read(spark, spec).collect())
    assert outcomes["one batch"][0] == ("a", "refunded", Decimal("5.00"))
    assert outcomes["in order"] == outcomes["one batch"] == outcomes["reversed"], outcomes
