"""Data-quality results that last: one row per check and run in the Delta table `ops.quality_results`.

A check passes when the share of rows that pass it is at least `warn_below`, warns below that, and
fails below `fail_below` (the seed's `mostly`). Two kinds of runs record checks:

- each silver micro-batch: `accepted_share`, the share of the batch's records that pass the
  contract (the rest are quarantined), appended with the batch's transaction id (a replay
  records nothing twice); written by Spark;
- each dbt build or test: every test of run_results.json, with dbt's own verdict (its
  `warn_if`/`error_if` are the thresholds) and failing-row count; written by the Airflow worker
  with deltalake (no Spark there: lakehouse.ops.dbt_quality).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Optional

from lakehouse.config.model import Thresholds
from lakehouse.sinks.delta import TableSpec
from lakehouse.sinks.retry import retry_conflicts

TABLE = ("ops", "quality_results")
STATUSES = ("pass", "warn", "fail")


@dataclass(frozen=True)
class CheckResult:
    """One row of ops.quality_results."""

    checked_at: dt.datetime
    check_date: dt.date
    source: str              # silver, dbt
    run_id: str              # silver: app id and batch id; dbt: the invocation id
    table_name: str          # e.g. silver.transactions, or the dbt node a test is attached to
    check_name: str
    rows_checked: Optional[int]   # null when the check does not say (dbt tests)
    rows_failed: Optional[int]
    warn_below: Optional[float]
    fail_below: Optional[float]
    status: str              # pass, warn, fail
    detail: str


def result(source: str, run_id: str, table_name: str, check_name: str, status: str, *,
           rows_checked: Optional[int] = None, rows_failed: Optional[int] = None,
           thresholds: Optional[Thresholds] = None, detail: str = "",
           at: Optional[dt.datetime] = None) -> CheckResult:
    if status not in STATUSES:
        raise ValueError(f"status {status!r}: expected one of {', '.join(STATUSES)}")
    at = at or dt.datetime.now(dt.timezone.utc)
    return CheckResult(at, at.date(), source, run_id, table_name, check_name, rows_checked, rows_failed,
                       thresholds.warn_below if thresholds else None, thresholds.fail_below if thresholds else None,
                       status, detail)


def spark_schema():
    from pyspark.sql.types import DateType, DoubleType, LongType, StringType, StructField, StructType, TimestampType

    kinds = {"checked_at": TimestampType(), "check_date": DateType(), "rows_checked": LongType(),
             "rows_failed": LongType(), "warn_below": DoubleType(), "fail_below": DoubleType()}
    return StructType([StructField(name, kinds.get(name, StringType())) for name in CheckResult.__annotations__])


def table_spec(cfg) -> TableSpec:
    """ops.quality_results for Spark (lakehouse.sinks.delta.ensure_table): created before the queries
    start, so several queries' first appends do not race to create it."""
    return TableSpec(cfg.lake.table_path(*TABLE), spark_schema(), ("check_date",))


def append_with_spark(spark, path: str, results: Sequence[CheckResult], app_id: str, version: int) -> None:
    """Appends `results` in one commit, skipped if (`app_id`, `version`) already committed here; a
    conflict with another writer (a table change, OPTIMIZE) is retried."""
    from lakehouse.sinks.append_once import append_once
    from lakehouse.spark.driver_rows import driver_rows

    frame = driver_rows(spark, [tuple(asdict(r).values()) for r in results], spark_schema())
    retry_conflicts(lambda: append_once(spark, path, frame, app_id, version), f"{path}: quality results")
