"""A table's last transaction id per app id: from the newest checksum file and the commits after it,
else from the table's state."""
from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.sinks.checksum import TXN_RETENTION
from lakehouse.sinks.delta import TXN_APP_ID, TXN_VERSION, last_txn_version, table_version
from tests.conftest import unique_name


def append(spark, path: str, app_id: str, version: int) -> None:
    spark.conf.set(TXN_APP_ID, app_id)
    spark.conf.set(TXN_VERSION, str(version))
    try:
        spark.range(3).write.format("delta").mode("append").save(path)
    finally:
        spark.conf.unset(TXN_APP_ID)
        spark.conf.unset(TXN_VERSION)


def jobs_of(spark, path: str, read):
    """`read()`'s result and the Spark jobs it ran, in a new driver's state: the DeltaLog cache cleared,
    then the table's latest version loaded (its protocol and metadata: Delta's own Spark job when that
    version's checksum file is missing). test_append_once.py counts its appends' jobs with it too."""
    context = spark.sparkContext
    context._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()
    table_version(spark, path)
    group = unique_name("jobs-of")
    context.setJobGroup(group, "jobs_of")
    try:
        result = read()
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    return result, list(context.statusTracker().getJobIdsForGroup(group))


@pytest.fixture
def table_path(cfg) -> str:
    return cfg.lake.table_path("tests", unique_name("txn"))


def written(spark, path: str) -> list[Path]:
    """Two app ids' commits (versions 0-4), the newest by `a`; returns their checksum files, oldest first."""
    for app_id, version in (("a", 0), ("b", 4), ("a", 1), ("b", 5), ("a", 7)):
        append(spark, path, app_id, version)
    checksums = [Path(path, "_delta_log", f"{version:020d}.crc") for version in range(5)]
    assert all(checksum.exists() for checksum in checksums)
    return checksums


def test_the_checksum_file_answers_without_a_spark_job(spark, table_path):
    written(spark, table_path)

    found, jobs = jobs_of(spark, table_path, lambda: [last_txn_version(spark, table_path, app) for app in "abc"])

    assert found == [7, 5, None]
    assert jobs == []


@pytest.mark.parametrize("missing", [(4,), (1, 2, 3, 4)], ids=["the newest", "all but the first"])
def test_without_the_newest_checksum_files_older_ones_and_the_commits_after_them_answer(spark, table_path, missing):
    checksums = written(spark, table_path)
    for version in missing:  # a writer killed between its commit and the file, each time
        checksums[version].unlink()

    found, jobs = jobs_of(spark, table_path, lambda: [last_txn_version(spark, table_path, app) for app in "abc"])

    assert found == [7, 5, None]  # with all but the first missing, `b` is in the commits only
    assert jobs == []


def test_without_any_recent_checksum_file_the_state_answers_the_same(spark, table_path):
    for checksum in written(spark, table_path):
        checksum.unlink()

    found, jobs = jobs_of(spark, table_path, lambda: [last_txn_version(spark, table_path, app) for app in "abc"])

    assert found == [7, 5, None]
    assert jobs  # the state's reconstruction


def test_a_transaction_id_retention_reads_the_state(spark, table_path):
    written(spark, table_path)
    spark.sql(f"ALTER TABLE delta.`{table_path}` SET TBLPROPERTIES ('{TXN_RETENTION}' = 'interval 30 days')")

    found, jobs = jobs_of(spark, table_path, lambda: last_txn_version(spark, table_path, "a"))

    assert found == 7
    assert jobs


def test_no_table_has_no_version(spark, table_path):
    assert last_txn_version(spark, table_path, "a") is None
