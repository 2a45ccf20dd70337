"""An append committed once per transaction id, the last id looked up without the table's state."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from delta.exceptions import ConcurrentTransactionException
from pyspark.sql import functions as F
from pyspark.sql.utils import AnalysisException

from lakehouse.ops import quality
from lakehouse.sinks.append_once import append_once
from lakehouse.sinks.delta import ensure_table
from lakehouse.sinks.retry import retry_conflicts
from tests.conftest import unique_name
from tests.integration.test_last_txn_version import jobs_of


def rows(spark, note: str, sleep_ms: int = 0):
    """One row (id 1, `note`); computing it sleeps `sleep_ms` in the JVM task."""
    text = F.lit(note) if not sleep_ms else F.concat(
        F.lit(note), F.coalesce(F.expr(f"reflect('java.lang.Thread', 'sleep', cast({sleep_ms} as bigint))"), F.lit("")))
    return spark.range(1).select(F.col("id").cast("bigint").alias("id"), text.alias("note"))


def notes(spark, path: str) -> list[str]:
    return sorted(row.note for row in spark.read.format("delta").load(path).collect())


def transactions(spark, path: str) -> dict[str, int]:
    """Each app id's last version, from the table's state (Delta's own answer)."""
    jvm = spark.sparkContext._jvm
    jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()
    snapshot = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path).unsafeVolatileSnapshot()
    found = snapshot.transactions()
    return {app: int(found.get(app).get()) for app in ("a", "b") if found.get(app).isDefined()}


@pytest.fixture
def table_path(spark, cfg) -> str:
    path = cfg.lake.table_path("tests", unique_name("append_once"))
    rows(spark, "seed").write.format("delta").save(path)
    return path


def test_each_transaction_id_is_appended_once(spark, table_path):
    for app_id, version in (("a", 3), ("a", 3), ("a", 2), ("a", 4), ("b", 0)):
        append_once(spark, table_path, rows(spark, f"{app_id}{version}"), app_id, version)

    assert notes(spark, table_path) == ["a3", "a4", "b0", "seed"]
    assert transactions(spark, table_path) == {"a": 4, "b": 0}
    rows(spark, "delta's").write.format("delta").mode("append").option("txnAppId", "a").option(
        "txnVersion", 4).save(table_path)  # Delta's own append reads the same ids: skipped
    assert notes(spark, table_path) == ["a3", "a4", "b0", "seed"]


def test_the_append_runs_no_spark_job_but_its_write(spark, table_path):
    append_once(spark, table_path, rows(spark, "a1"), "a", 1)

    def write_twice():
        append_once(spark, table_path, rows(spark, "a2"), "a", 2)
        append_once(spark, table_path, rows(spark, "a2 again"), "a", 2)

    assert len(jobs_of(spark, table_path, write_twice)[1]) == 1  # the rows' write; no state built
    assert notes(spark, table_path) == ["a1", "a2", "seed"]


def test_a_silver_batchs_quality_row_takes_it(spark, cfg):
    spec = quality.table_spec(cfg)  # the table as silver creates it, partitioned by date
    ensure_table(spark, spec)
    app_id = unique_name("silver-query")

    def append(version: int) -> None:
        check = quality.result("silver", f"{app_id}/{version}", "silver.orders", "accepted_share", "pass",
                               rows_checked=9, rows_failed=0)
        quality.append_with_spark(spark, spec.path, [check], app_id, version)

    append(3)
    assert len(jobs_of(spark, spec.path, lambda: [append(3), append(4)])[1]) == 1
    recorded = spark.read.format("delta").load(spec.path).where(F.col("run_id").startswith(app_id))
    assert sorted(row.run_id for row in recorded.collect()) == [f"{app_id}/3", f"{app_id}/4"]


def test_without_checksum_files_the_state_answers(spark, table_path):
    append_once(spark, table_path, rows(spark, "a1"), "a", 1)
    for checksum in Path(table_path, "_delta_log").glob("*.crc"):
        checksum.unlink()
    spark.sparkContext._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()

    append_once(spark, table_path, rows(spark, "a1 again"), "a", 1)
    append_once(spark, table_path, rows(spark, "a2"), "a", 2)

    assert notes(spark, table_path) == ["a1", "a2", "seed"]


def test_a_new_table_is_created_by_deltas_own_append(spark, cfg):
    path = cfg.lake.table_path("tests", unique_name("append_once_new"))

    append_once(spark, path, rows(spark, "a0"), "a", 0)
    append_once(spark, path, rows(spark, "a0 again"), "a", 0)

    assert notes(spark, path) == ["a0"]
    assert transactions(spark, path) == {"a": 0}


def test_rows_of_other_columns_are_refused_as_deltas_own_append_refuses_them(spark, table_path):
    with pytest.raises(AnalysisException, match=r"(?i)schema mismatch"):
        append_once(spark, table_path, rows(spark, "a1").withColumn("extra", F.lit(1)), "a", 1)

    assert notes(spark, table_path) == ["seed"]


def test_a_concurrent_commit_of_the_same_id_conflicts_and_the_retry_skips_it(spark, table_path):
    failures: list[BaseException] = []

    def slow_append():
        try:
            append_once(spark, table_path, rows(spark, "slow a5", sleep_ms=4000), "a", 5)
        except BaseException as failure:  # handed to the test's thread
            failures.append(failure)

    writer = threading.Thread(target=slow_append)
    writer.start()
    deadline = time.monotonic() + 60
    while not spark.sparkContext.statusTracker().getActiveJobsIds() and time.monotonic() < deadline:
        time.sleep(0.05)  # the slow append has read the table and is writing its rows
    append_once(spark, table_path, rows(spark, "fast a5"), "a", 5)
    writer.join()

    assert [type(failure) for failure in failures] == [ConcurrentTransactionException]
    retry_conflicts(lambda: append_once(spark, table_path, rows(spark, "slow a5"), "a", 5), "test")
    assert notes(spark, table_path) == ["fast a5", "seed"]
