"""A table's last transaction id per app id: from the latest version's checksum file, else from its state."""
from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.sinks.delta import TXN_APP_ID, TXN_RETENTION, TXN_VERSION, last_txn_version
from tests.conftest import unique_name


def append(spark, path: str, app_id: str, version: int) -> None:
    spark.conf.set(TXN_APP_ID, app_id)
    spark.conf.set(TXN_VERSION, str(version))
    try:
        spark.range(3).write.format("delta").mode("append").save(path)
    finally:
        spark.conf.unset(TXN_APP_ID)
        spark.conf.unset(TXN_VERSION)


def jobs_of(spark, read):
    """`read()`'s result and the Spark jobs it ran, on a DeltaLog cache cleared first (a new driver's)."""
    context = spark.sparkContext
    context._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()
    group = unique_name("txn-read")
    context.setJobGroup(group, "last_txn_version")
    try:
        result = read()
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    return result, list(context.statusTracker().getJobIdsForGroup(group))


@pytest.fixture
def table_path(cfg) -> str:
    return cfg.lake.table_path("tests", unique_name("txn"))


def written(spark, path: str) -> str:
    """Two app ids' commits, the newest by `a`; returns the latest commit's checksum file."""
    for app_id, version in (("a", 0), ("b", 4), ("a", 1), ("b", 5), ("a", 7)):
        append(spark, path, app_id, version)
    checksum = Path(path, "_delta_log", f"{4:020d}.crc")
    assert checksum.exists()
    return str(checksum)


def test_the_checksum_file_answers_without_a_spark_job(spark, table_path):
    written(spark, table_path)

    found, jobs = jobs_of(spark, lambda: [last_txn_version(spark, table_path, app) for app in ("a", "b", "c")])

    assert found == [7, 5, None]
    assert jobs == []


def test_without_the_checksum_file_the_state_answers_the_same(spark, table_path):
    Path(written(spark, table_path)).unlink()  # a writer killed between its commit and the file

    found, jobs = jobs_of(spark, lambda: [last_txn_version(spark, table_path, app) for app in ("a", "b", "c")])

    assert found == [7, 5, None]
    assert jobs  # the state's reconstruction


def test_a_transaction_id_retention_reads_the_state(spark, table_path):
    written(spark, table_path)
    spark.sql(f"ALTER TABLE delta.`{table_path}` SET TBLPROPERTIES ('{TXN_RETENTION}' = 'interval 30 days')")

    found, jobs = jobs_of(spark, lambda: last_txn_version(spark, table_path, "a"))

    assert found == 7
    assert jobs


def test_no_table_has_no_version(spark, table_path):
    assert last_txn_version(spark, table_path, "a") is None
