"""dbt's test results into ops.quality_results (lakehouse.ops.quality), from the Airflow worker: deltalake,
no Spark. Also how a process without Spark reaches a lake table (`lake_target`)."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Optional

from lakehouse.ops.quality import TABLE, CheckResult, result


def arrow_schema():
    import pyarrow as pa

    kinds = {"checked_at": pa.timestamp("us", tz="UTC"), "check_date": pa.date32(), "rows_checked": pa.int64(),
             "rows_failed": pa.int64(), "warn_below": pa.float64(), "fail_below": pa.float64()}
    return pa.schema([(name, kinds.get(name, pa.string())) for name in CheckResult.__annotations__])


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
