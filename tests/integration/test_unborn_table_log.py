"""A table path whose `_delta_log` exists but holds no commit: another job's create under way, or
what a create killed before its first commit left. Delta's own create does nothing there and the
table's first read fails (DELTA_TABLE_NOT_FOUND): a bronze driver once died so when silver was
creating the same bronze table beside it."""
from __future__ import annotations

import shutil
import threading
import uuid
from pathlib import Path

import pytest

from lakehouse.sinks import unborn_log
from lakehouse.sinks.delta import TableSpec, ensure_table
from tests.conftest import unique_name
from tests.integration.test_delta_sink import SCHEMA

FIRST_COMMIT = "00000000000000000000.json"
PROPERTIES = {"delta.appendOnly": "true"}


@pytest.fixture
def table(cfg) -> TableSpec:
    return TableSpec(cfg.lake.table_path("tests", unique_name("unborn")), SCHEMA, ("day",), PROPERTIES)


def unborn(table: TableSpec) -> Path:
    log = Path(table.path) / "_delta_log"
    log.mkdir(parents=True)
    return log


def held_schema(spark, table: TableSpec):
    return spark.read.format("delta").load(table.path).schema


def test_a_table_another_job_is_creating_is_awaited_not_created_again(spark, cfg, table):
    twin = TableSpec(cfg.lake.table_path("tests", unique_name("twin")), SCHEMA, ("day",), table.properties)
    ensure_table(spark, twin)
    log = unborn(table)
    other_job = threading.Timer(1.0, shutil.copy, (Path(twin.path) / "_delta_log" / FIRST_COMMIT, log / FIRST_COMMIT))
    other_job.start()

    ensure_table(spark, table)

    other_job.join()
    assert sorted(p.name for p in log.glob("*.json")) == [FIRST_COMMIT]  # the other job's commit, alone
    assert held_schema(spark, table) == SCHEMA


def test_a_log_left_empty_by_a_create_that_died_is_cleared_and_the_table_created(spark, table, monkeypatch):
    monkeypatch.setattr(unborn_log, "FIRST_COMMIT_WAIT_S", 0.5)
    unborn(table)

    ensure_table(spark, table)

    assert_created(spark, table)


def test_on_s3_the_empty_log_a_dead_create_left_is_its_directory_marker(spark, cfg, monkeypatch):
    from lakehouse.services.s3 import s3_client

    monkeypatch.setattr(unborn_log, "FIRST_COMMIT_WAIT_S", 0.5)
    bucket, client = f"lake-{uuid.uuid4().hex[:12]}", s3_client(cfg)
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="bronze/unborn/_delta_log/", Body=b"")  # what S3A's mkdirs leaves
    table = TableSpec(f"s3a://{bucket}/bronze/unborn", SCHEMA, ("day",), PROPERTIES)

    ensure_table(spark, table)

    assert_created(spark, table)


def assert_created(spark, table: TableSpec) -> None:
    assert held_schema(spark, table) == SCHEMA
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{table.path}`").first()
    assert (detail.partitionColumns, detail.properties["delta.appendOnly"]) == (["day"], "true")


def test_a_log_holding_files_but_no_commit_is_left_alone_and_named(spark, table, monkeypatch):
    monkeypatch.setattr(unborn_log, "FIRST_COMMIT_WAIT_S", 0.5)
    stray = unborn(table) / ".00000000000000000000.json.4f1c.tmp"
    stray.write_text("{}")

    with pytest.raises(unborn_log.UnbornTableLog, match="holds files but no commit"):
        ensure_table(spark, table)
    assert stray.exists()
