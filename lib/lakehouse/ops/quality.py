"""Data-quality results that last: one row per check and run in the Delta table `ops.quality_results`.

A check passes when the share of rows that pass it is at least `warn_below`, warns below that, and
fails below `fail_below` (the seed's `mostly`). Two kinds of runs record checks:

- each silver micro-batch: `accepted_share`, the share of the batch's records that pass the
  contract (the rest are quarantined), appended with the batch's transaction id (a replay
  records nothing twice); written by Spark;
- each dbt build or test: every test of run_results.json, with dbt's own verdict (its
  `warn_if`/`error_if` are the thresholds) and failing-row count; written by the Airflow worker
  with deltalake (no Spark there).
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
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


def arrow_schema():
    import pyarrow as pa

    kinds = {"checked_at": pa.timestamp("us", tz="UTC"), "check_date": pa.date32(), "rows_checked": pa.int64(),
             "rows_failed": pa.int64(), "warn_below": pa.float64(), "fail_below": pa.float64()}
    return pa.schema([(name, kinds.get(name, pa.string())) for name in CheckResult.__annotations__])


def table_spec(cfg) -> TableSpec:
    """ops.quality_results for Spark (lakehouse.sinks.delta.ensure_table): created before the queries
    start, so several queries' first appends do not race to create it."""
    return TableSpec(cfg.lake.table_path(*TABLE), spark_schema(), ("check_date",))


def append_with_spark(spark, path: str, results: Sequence[CheckResult], app_id: str, version: int) -> None:
    """Appends `results` in one commit, skipped if (`app_id`, `version`) already committed here; a
    conflict with another writer (a table change, OPTIMIZE) is retried."""
    rows = [tuple(asdict(r).values()) for r in results]
    frame = spark.createDataFrame(rows, spark_schema())
    retry_conflicts(lambda: frame.write.format("delta").mode("append").option("txnAppId", app_id)
                    .option("txnVersion", version).save(path), f"{path}: quality results")


def append_with_deltalake(uri: str, results: Sequence[CheckResult],
                          storage_options: Optional[Mapping[str, str]] = None) -> None:
    """Appends `results` in one commit from a process without Spark (the Airflow worker)."""
    import pyarrow as pa
    from deltalake import write_deltalake

    if not results:
        return
    table = pa.Table.from_pylist([asdict(r) for r in results], schema=arrow_schema())
    write_deltalake(uri, table, mode="append", partition_by=["check_date"],
                    storage_options=dict(storage_options) if storage_options else None)


def dbt_results(target_dir: Path) -> list[CheckResult]:
    """The tests of dbt's last run_results.json in `target_dir`, attached to the node each one tests
    (from manifest.json). Errors count as failures; skipped tests are left out."""
    run = json.loads((target_dir / "run_results.json").read_text())
    manifest_path = target_dir / "manifest.json"
    nodes = json.loads(manifest_path.read_text())["nodes"] if manifest_path.is_file() else {}
    invocation = run.get("metadata", {}).get("invocation_id") or uuid.uuid4().hex
    finished = run.get("metadata", {}).get("generated_at")
    at = dt.datetime.fromisoformat(finished.replace("Z", "+00:00")) if finished else None
    results = []
    for outcome in run["results"]:
        unique_id = outcome["unique_id"]
        if not unique_id.startswith("test.") or outcome["status"] == "skipped":
            continue
        node = nodes.get(unique_id, {})
        tested = node.get("attached_node") or next(iter(node.get("depends_on", {}).get("nodes", [])), "")
        status = {"pass": "pass", "warn": "warn"}.get(outcome["status"], "fail")
        failures = outcome.get("failures")
        results.append(result("dbt", invocation, tested.split(".")[-1] if tested else "", unique_id.split(".")[2],
                              status, rows_failed=failures, detail=(outcome.get("message") or "")[:1000], at=at))
    return results


def dbt_results_target(cfg) -> Optional[dict]:
    """Where a dbt task appends its tests' results (lake_target of ops.quality_results); None when
    quality.record is off."""
    return lake_target(cfg, *TABLE) if cfg.quality.record else None


def lake_target(cfg, layer: str, name: str) -> dict:
    """A lake table for deltalake (no Spark): its URI and storage options (S3 with the environment's
    credentials and, with EMR's log store, the DynamoDB table Spark commits through)."""
    uri = cfg.lake.table_path(layer, name)
    options: dict[str, str] = {}
    if uri.startswith(("s3://", "s3a://")):
        uri = "s3://" + uri.split("://", 1)[1]
        options["AWS_REGION"] = cfg.s3.region
        if cfg.s3.endpoint:
            options.update(AWS_ENDPOINT_URL=cfg.s3.endpoint, AWS_ALLOW_HTTP="true")
        if cfg.s3.credentials == "keys":
            options.update(AWS_ACCESS_KEY_ID=cfg.s3.access_key.resolve(),
                           AWS_SECRET_ACCESS_KEY=cfg.s3.secret_key.resolve())
        if cfg.lake.log_store == "dynamodb":
            options.update(AWS_S3_LOCKING_PROVIDER="dynamodb", DELTA_DYNAMO_TABLE_NAME=cfg.lake.log_store_table)
    return {"uri": uri, "storage_options": options}


def record_dbt_results(target: Mapping, target_dir: Path) -> int:
    """Appends the tests of dbt's last run (in `target_dir`) to ops.quality_results; returns how many."""
    results = dbt_results(target_dir)
    append_with_deltalake(target["uri"], results, target.get("storage_options"))
    return len(results)
