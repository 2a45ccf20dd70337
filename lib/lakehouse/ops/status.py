"""`lakehouse-status`: per lake table, what an on-call engineer asks first, from the sources the alarms use.

Last commit (the table's Delta log), freshness and consumer lag (the newest CloudWatch datum the jobs
sent, within `LOOKBACK`), the last quality result (ops.quality_results) and the writer job's last
failure (its `Failures` metric; for a streaming table also kafka_to_silver's, which runs its queries).
Reads only: no Spark, nothing written.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from lakehouse.config import Config
from lakehouse.ops import quality
from lakehouse.ops.dbt_quality import lake_target
from lakehouse.ops.metrics import cloudwatch_client

LOOKBACK = dt.timedelta(days=1)
WRITER_JOBS = {"extract": "postgres_extract", "landed_files": "files_to_bronze"}
ONE_DRIVER_JOB = "kafka_to_silver"  # runs the streaming writers' queries in one driver, under their job names


@dataclass(frozen=True)
class TableStatus:
    table: str
    job: str
    last_commit: Optional[dt.datetime]
    freshness_s: Optional[float]
    lag: Optional[float]
    quality: Optional[str]          # "<status> <check> at <time>"
    last_failure: Optional[dt.datetime]


def writer_job(table: str, writer: str) -> str:
    if writer == "streaming":
        return "kafka_to_bronze" if table.startswith("bronze.") else "bronze_to_silver"
    return WRITER_JOBS[writer]


def table_status(cfg: Config) -> list[TableStatus]:
    metrics = Metrics(cfg)
    checks = last_checks(cfg)
    topics = {f"bronze.{contract}": topic for contract, topic in cfg.streaming.topics.items()}
    statuses = []
    for table, settings in sorted(cfg.maintenance.tables.items()):
        job = writer_job(table, settings.writer)
        dimensions = {"job": job, "table": table}
        lag = metrics.newest("ConsumerLag", **dimensions, topic=topics[table]) if table in topics else None
        failing = (job, ONE_DRIVER_JOB) if settings.writer == "streaming" else (job,)
        failures = [at for at in (metrics.newest("Failures", job=name, at=True) for name in failing) if at]
        failure = max(failures, default=None)
        statuses.append(TableStatus(
            table, job, last_commit(cfg, table), metrics.newest("Freshness", **dimensions), lag,
            checks.get(table), failure,
        ))
    return statuses


class Metrics:
    """A metric's newest minute in the environment's namespace: its time, or its smallest datum (lag
    and freshness fall as a job catches up: the smallest is the latest)."""

    def __init__(self, cfg: Config):
        self.namespace = cfg.metrics.namespace
        self.client = cloudwatch_client(cfg)
        self.now = dt.datetime.now(dt.timezone.utc)

    def newest(self, name: str, at: bool = False, **dimensions: str):
        points = self.client.get_metric_statistics(
            Namespace=self.namespace, MetricName=name,
            Dimensions=[{"Name": k, "Value": v} for k, v in sorted(dimensions.items())],
            StartTime=self.now - LOOKBACK, EndTime=self.now + dt.timedelta(minutes=1), Period=60,
            Statistics=["Minimum"],
        )["Datapoints"]
        if not points:
            return None
        newest = max(points, key=lambda point: point["Timestamp"])
        return newest["Timestamp"] if at else newest["Minimum"]


def last_commit(cfg: Config, table: str) -> Optional[dt.datetime]:
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    target = lake_target(cfg, *table.split(".", 1))
    try:
        [entry] = DeltaTable(target["uri"], storage_options=target["storage_options"] or None).history(1)
    except TableNotFoundError:
        return None
    return dt.datetime.fromtimestamp(entry["timestamp"] / 1000, dt.timezone.utc)


def last_checks(cfg: Config) -> dict[str, str]:
    """table -> its newest check in ops.quality_results, as "<status> <check> at <time>"."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    target = lake_target(cfg, *quality.TABLE)
    try:
        rows = DeltaTable(target["uri"], storage_options=target["storage_options"] or None).to_pyarrow_table(
            columns=["table_name", "check_name", "status", "checked_at"]).to_pylist()
    except TableNotFoundError:
        return {}
    newest: dict[str, dict] = {}
    for row in rows:
        if row["table_name"] not in newest or row["checked_at"] > newest[row["table_name"]]["checked_at"]:
            newest[row["table_name"]] = row
    return {table: f"{row['status']} {row['check_name']} at {_time(row['checked_at'])}"
            for table, row in newest.items()}


def render(statuses: list[TableStatus]) -> str:
    header = ("table", "writer", "last commit", "freshness", "lag", "last quality result", "last failure")
    rows = [header] + [
        (s.table, s.job, _time(s.last_commit), _seconds(s.freshness_s),
         "-" if s.lag is None else f"{s.lag:.0f}", s.quality or "-", _time(s.last_failure))
        for s in statuses
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def _time(moment: Optional[dt.datetime]) -> str:
    return "-" if moment is None else moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def _seconds(value: Optional[float]) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}s" if value < 120 else f"{value / 60:.0f}m"
