"""Files landed by Airbyte under <lake.root>/raw/salesforce/account/ -> bronze (every line once) ->
silver.accounts (latest LastModifiedDate wins), with the real file stream source and Delta."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import uuid
from decimal import Decimal

import pytest
from chispa import assert_df_equality

from lakehouse.extract.state import table_version
from lakehouse.landed.ingest import SOURCES, bronze_schema, ingest, ingest_batch, landed_path
from lakehouse.sinks.delta import TableSpec
from lakehouse.sourcegen.salesforce_files import account_record, land_account_syncs, write_sync_file

SOURCE = SOURCES["salesforce_account"]
T0 = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def lake(cfg, tmp_path):
    """The config with a lake of its own: the raw prefix and the checkpoint are this test's alone."""
    return dataclasses.replace(cfg, lake=dataclasses.replace(
        cfg.lake, root=str(tmp_path / "lake"), checkpoint_root=str(tmp_path / "checkpoints")))


def tables(spark, lake):
    bronze = spark.read.format("delta").load(lake.lake.table_path("bronze", SOURCE.bronze_name))
    silver = spark.read.format("delta").load(lake.lake.table_path("silver", SOURCE.silver_name))
    return bronze, silver


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def line_with_revenue(account: dict, revenue_json: str, extracted_at: dt.datetime) -> str:
    """An Airbyte line whose AnnualRevenue is the JSON number token `revenue_json`, verbatim."""
    line = json.dumps({
        "_airbyte_raw_id": str(uuid.uuid4()), "_airbyte_extracted_at": int(extracted_at.timestamp() * 1000),
        "_airbyte_generation_id": 0, "_airbyte_meta": {"sync_id": 3, "changes": []},
        "_airbyte_data": {**account, "AnnualRevenue": "<revenue>"},
    })
    return line.replace('"<revenue>"', revenue_json)


def test_landed_files_are_ingested_exactly_once_and_the_newest_version_wins(spark, lake):
    raw, rng = landed_path(lake, SOURCE), random.Random(5)
    write_sync_file(raw, [
        account_record("001A", "Acme", at(0), at(0), "Retail", 1200.5, "France"),
        account_record("001B", "Globex", at(1)),
        account_record("001C", "Initech", at(2), annual_revenue=10),
    ], at(5), sync_id=1, rng=rng)
    write_sync_file(raw, [
        account_record("001C", "Initech", at(2), annual_revenue=10),  # re-emitted at the cursor boundary
        account_record("001A", "Acme Corp", at(60), at(0), "Retail", 1300, "France"),
    ], at(65), sync_id=2, rng=rng, extra_lines=['{"_airbyte_raw_id": "truncated', "  "])

    first = ingest(spark, lake, SOURCE)
    versions = [table_version(spark, lake.lake.table_path(layer, name))
                for layer, name in (("bronze", SOURCE.bronze_name), ("silver", SOURCE.silver_name))]
    again = ingest(spark, lake, SOURCE)

    assert (first.records, again.records, again.batches) == (6, 0, 0), "5 records, 1 truncated line; then nothing"
    assert [table_version(spark, lake.lake.table_path(layer, name))
            for layer, name in (("bronze", SOURCE.bronze_name), ("silver", SOURCE.silver_name))] == versions

    write_sync_file(raw, [
        account_record("001A", "Acme (stale)", at(30)),  # older than what silver holds: ignored
    ], at(125), sync_id=3, rng=rng, extra_lines=[
        line_with_revenue(account_record("001B", "Globex", at(120)), "9999999999999999.99", at(125)),  # the largest
        line_with_revenue(account_record("001D", None, at(121)), "1e16", at(125)),  # overflows decimal(18,2): null
    ])
    third = ingest(spark, lake, SOURCE)
    assert (third.records, third.bronze_inserted, third.silver_inserted, third.silver_updated) == (3, 3, 1, 1)

    bronze, silver = tables(spark, lake)
    lines_landed = 3 + 3 + 3  # the blank line is not a record
    print(f"files: bronze rows={bronze.count()} for {lines_landed} landed lines; "
          f"missed={lines_landed - bronze.select('record_id').distinct().count()} "
          f"duplicated={bronze.count() - bronze.select('record_id').distinct().count()}")
    assert bronze.count() == bronze.select("record_id").distinct().count() == lines_landed
    assert bronze.where("value = '  '").count() == 0
    assert bronze.where("raw_id IS NULL").count() == 1
    expected = spark.createDataFrame([
        ("001A", "Acme Corp", "Retail", Decimal("1300.00"), "France", at(0), at(60)),
        ("001B", "Globex", None, Decimal("9999999999999999.99"), None, at(120), at(120)),
        ("001C", "Initech", None, Decimal("10.00"), None, at(2), at(2)),
        ("001D", None, None, None, None, at(121), at(121)),
    ], silver.schema)
    assert_df_equality(silver, expected, ignore_row_order=True, ignore_nullable=True)


def test_a_replayed_batch_changes_neither_bronze_nor_silver(spark, lake):
    paths = land_account_syncs(landed_path(lake, SOURCE), syncs=2, accounts=6, changed_per_sync=3, seed=9, start=T0)
    lines = spark.read.text([str(p) for p in paths]).selectExpr("value", "'landed' AS source_file")
    bronze = TableSpec(lake.lake.table_path("bronze", SOURCE.bronze_name), bronze_schema())
    silver_schema = SOURCE.to_silver(spark.createDataFrame([], bronze_schema())).schema
    silver = TableSpec(lake.lake.table_path("silver", SOURCE.silver_name), silver_schema)

    ingest_batch(lines, 0, bronze=bronze, silver=silver, source=SOURCE)
    first_bronze, first_silver = (t.localCheckpoint() for t in tables(spark, lake))
    ingest_batch(lines, 0, bronze=bronze, silver=silver, source=SOURCE)  # the replay after a crash
    bronze_rows, silver_rows = tables(spark, lake)

    assert first_bronze.count() == 6 + 4  # 6 accounts, then 3 changed plus the re-emitted boundary record
    assert first_silver.count() == 6
    assert_df_equality(bronze_rows, first_bronze, ignore_row_order=True)
    assert_df_equality(silver_rows, first_silver, ignore_row_order=True)


def test_one_last_modified_date_keeps_one_version_whatever_the_batching(spark, lake):
    """Two versions of an account with the same LastModifiedDate: one batch, or one batch each in
    either order, leave the same silver row."""
    first, second = (line_with_revenue(account_record("001A", name, at(0)), "1", at(minutes))
                     for name, minutes in (("Acme", 5), ("Acme Corp", 65)))
    batchings = {"one batch": [[first, second]], "in order": [[first], [second]], "reversed": [[second], [first]]}
    kept = {}
    for name, batches in batchings.items():
        root = f"{lake.lake.root}/{name.replace(' ', '_')}"
        bronze = TableSpec(f"{root}/bronze", bronze_schema())
        silver = TableSpec(f"{root}/silver", SOURCE.to_silver(spark.createDataFrame([], bronze_schema())).schema)
        for batch_id, lines in enumerate(batches):
            batch = spark.createDataFrame([(line, f"sync-{batch_id}") for line in lines],
                                          "value string, source_file string")
            ingest_batch(batch, batch_id, bronze=bronze, silver=silver, source=SOURCE)
        kept[name] = [row.account_name for row in spark.read.format("delta").load(silver.path).collect()]
    assert kept["one batch"] == kept["in order"] == kept["reversed"], kept
    assert len(kept["one batch"]) == 1
