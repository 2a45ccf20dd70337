"""OPTIMIZE / VACUUM on real Delta tables through the maintenance job's `run`."""
from __future__ import annotations

import argparse
import dataclasses
import threading
from pathlib import Path

import pytest
from chispa import assert_df_equality

from lakehouse.config.model import MaintainedTableConfig, MaintenanceConfig
from lakehouse.maintenance import job
from lakehouse.maintenance.job import MaintenanceError, add_arguments, run
from lakehouse.maintenance.tables import RETENTION_CHECK, RetentionError
from tests.conftest import unique_name


def parse(*flags: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(flags))


@pytest.fixture
def layer():
    return unique_name("maint")


def with_tables(cfg, layer: str, tables: dict[str, MaintainedTableConfig], retention=None):
    maintenance = MaintenanceConfig(vacuum_retention_hours=retention,
                                    tables={f"{layer}.{name}": table for name, table in tables.items()})
    return dataclasses.replace(cfg, maintenance=maintenance)


def write_in_small_files(spark, path: str, batches: int) -> None:
    """`batches` appends of one file each; rows include a null and an edge value."""
    for batch in range(batches):
        rows = [(batch * 10 + i, None if i == 0 else f"c{i % 3}", 2**31 - 1 if i == 9 else i) for i in range(10)]
        spark.createDataFrame(rows, "order_id long, customer_id string, quantity int") \
            .coalesce(1).write.format("delta").mode("append").save(path)


def parquet_files(path: str) -> list[Path]:
    return sorted(Path(path).glob("*.parquet"))


def operations(spark, path: str) -> list[str]:
    from delta.tables import DeltaTable

    return [row.operation for row in DeltaTable.forPath(spark, path).history().orderBy("version").collect()]


def active_files(spark, path: str) -> int:
    from delta.tables import DeltaTable

    return DeltaTable.forPath(spark, path).detail().first().numFiles


def test_optimize_zorders_small_files_and_vacuum_keeps_files_within_retention(spark, cfg, layer, capsys):
    cfg = with_tables(cfg, layer, {"orders": MaintainedTableConfig("extract", zorder_by=["customer_id"])})
    orders = cfg.lake.table_path(layer, "orders")
    write_in_small_files(spark, orders, 4)
    before = spark.read.format("delta").load(orders).collect()

    lines = run(spark, cfg, parse())

    assert [line.split(" [")[0] for line in lines] == [
        f"{layer}.orders: OPTIMIZE ZORDER BY (customer_id): 4 files compacted into 1; "
        "VACUUM (the table's own retention): 0 files deleted",
    ]
    assert capsys.readouterr().out.splitlines() == lines
    assert operations(spark, orders)[-3:] == ["OPTIMIZE", "VACUUM START", "VACUUM END"]
    assert active_files(spark, orders) == 1
    assert len(parquet_files(orders)) == 5  # the compacted files are younger than 7 days: kept
    after = spark.read.format("delta").load(orders)
    assert_df_equality(after, spark.createDataFrame(before, after.schema), ignore_row_order=True)


def test_a_forced_short_retention_deletes_the_replaced_files(spark, cfg, layer):
    cfg = with_tables(cfg, layer, {"orders": MaintainedTableConfig("extract")})
    orders = cfg.lake.table_path(layer, "orders")
    write_in_small_files(spark, orders, 3)
    check_before = spark.conf.get(RETENTION_CHECK, "true")

    (line,) = run(spark, cfg, parse("--retention-hours", "0", "--force-retention"))

    assert line.split(" [")[0] == (
        f"{layer}.orders: OPTIMIZE: 3 files compacted into 1; VACUUM (0 h retention): 3 files deleted")
    assert len(parquet_files(orders)) == 1
    assert spark.read.format("delta").load(orders).count() == 30
    assert spark.conf.get(RETENTION_CHECK, "true") == check_before  # the safety check is back on


@pytest.mark.parametrize(("flags", "config_retention"), [(("--retention-hours", "24"), None), ((), 48)])
def test_a_retention_below_7_days_is_refused_before_touching_any_table(spark, cfg, layer, flags, config_retention):
    cfg = with_tables(cfg, layer, {"orders": MaintainedTableConfig("extract")}, retention=config_retention)
    orders = cfg.lake.table_path(layer, "orders")
    write_in_small_files(spark, orders, 2)

    with pytest.raises(RetentionError) as refused:
        run(spark, cfg, parse(*flags))

    hours = config_retention or 24
    assert str(refused.value) == (
        f"VACUUM retention of {hours} hours is below Delta's default of 168 hours (7 days): queries, lagging "
        "streams and time travel reading older versions would fail. Nothing was vacuumed. "
        "Use --force-retention to do it anyway.")
    assert operations(spark, orders) == ["WRITE", "WRITE"]
    assert len(parquet_files(orders)) == 2


def test_a_table_not_written_yet_is_skipped_and_reported(spark, cfg, layer):
    cfg = with_tables(cfg, layer, {"accounts": MaintainedTableConfig("extract")})
    (line,) = run(spark, cfg, parse())
    assert line.split(" [")[0] == (
        f"{layer}.accounts: skipped, no Delta table at {cfg.lake.table_path(layer, 'accounts')}")


def test_one_failing_table_does_not_stop_the_others_and_fails_the_job(spark, cfg, layer, capsys):
    cfg = with_tables(cfg, layer, {"broken": MaintainedTableConfig("extract", zorder_by=["no_such_column"]),
                                   "orders": MaintainedTableConfig("extract")})
    write_in_small_files(spark, cfg.lake.table_path(layer, "broken"), 2)
    write_in_small_files(spark, cfg.lake.table_path(layer, "orders"), 2)

    with pytest.raises(MaintenanceError, match=f"maintenance failed for {layer}.broken$"):
        run(spark, cfg, parse("--skip-vacuum"))

    broken, orders = sorted(capsys.readouterr().out.splitlines())  # printed as each finishes
    assert broken.startswith(f"{layer}.broken: FAILED (")
    assert orders.split(" [")[0] == f"{layer}.orders: OPTIMIZE: 2 files compacted into 1"
    assert active_files(spark, cfg.lake.table_path(layer, "orders")) == 1


def test_tables_flag_selects_a_subset_and_rejects_unknown_names(spark, cfg, layer):
    extract = MaintainedTableConfig("extract")
    cfg = with_tables(cfg, layer, {"orders": extract, "users": extract})
    write_in_small_files(spark, cfg.lake.table_path(layer, "users"), 2)
    (line,) = run(spark, cfg, parse("--tables", f"{layer}.users", "--skip-optimize"))
    assert line.split(" [")[0] == f"{layer}.users: VACUUM (the table's own retention): 0 files deleted"
    with pytest.raises(MaintenanceError, match=rf"not in maintenance.tables: {layer}.nope \(known: "):
        run(spark, cfg, parse("--tables", f"{layer}.nope"))


def test_tables_are_maintained_at_once_and_a_forced_retention_holds_for_every_thread(spark, cfg, layer, monkeypatch):
    extract = MaintainedTableConfig("extract")
    cfg = with_tables(cfg, layer, {"orders": extract, "users": extract})
    for name in ("orders", "users"):
        write_in_small_files(spark, cfg.lake.table_path(layer, name), 3)
    both_started = threading.Barrier(2, timeout=120)  # broken (the table fails) unless both run at once
    real_optimize = job.optimize

    def optimize_once_both_started(*args, **kwargs):
        both_started.wait()
        return real_optimize(*args, **kwargs)

    monkeypatch.setattr(job, "optimize", optimize_once_both_started)
    check_before = spark.conf.get(RETENTION_CHECK, "true")

    lines = run(spark, cfg, parse("--parallelism", "2", "--retention-hours", "0", "--force-retention"))

    assert [line.split(" [")[0] for line in lines] == [
        f"{layer}.{name}: OPTIMIZE: 3 files compacted into 1; VACUUM (0 h retention): 3 files deleted"
        for name in ("orders", "users")]
    assert spark.conf.get(RETENTION_CHECK, "true") == check_before


def test_parallelism_below_one_is_refused(spark, cfg, layer):
    cfg = with_tables(cfg, layer, {"orders": MaintainedTableConfig("extract")})
    with pytest.raises(MaintenanceError, match="--parallelism must be at least 1, got 0"):
        run(spark, cfg, parse("--parallelism", "0"))
