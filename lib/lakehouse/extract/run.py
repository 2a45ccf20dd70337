"""The postgres_extract job: the selected tables in turn, in the mode the flags ask for.

Per table: names are checked in the catalog, a `timestamp` cursor's time zone checked
(extract.cursor_zone) and flag values parsed into the cursor's type before anything else runs;
then the mode runs and one summary line is logged. A table that fails does not stop the others;
the job fails at the end, naming every table that failed (a reconciliation fails the table when
it finds rows behind the position that were never extracted).
"""
from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Callable, Optional

from lakehouse.config.model import Config, ExtractConfig
from lakehouse.extract.cursor_zone import cursor_utc_offset
from lakehouse.extract.identifiers import resolve_table
from lakehouse.extract.literals import parse_text
from lakehouse.extract.modes import TableRun, backfill, full_refresh, incremental
from lakehouse.extract.reconcile import reconcile
from lakehouse.extract.summary import RunSummary
from lakehouse.ops.metrics import publisher
from lakehouse.ops.phases import phase
from lakehouse.sources.postgres import connect

log = logging.getLogger(__name__)

JOB = "postgres_extract"
MODES = ("incremental", "full-refresh", "backfill", "reconcile")


class ExtractError(RuntimeError):
    """The request cannot run, or some tables failed (each is logged with its cause)."""


@dataclass(frozen=True)
class ExtractRequest:
    """What the flags ask for: `--mode`, and `--since/--until` (backfill only, in the cursor's type)."""

    mode: str = "incremental"
    since: Optional[str] = None
    until: Optional[str] = None

    def __post_init__(self):
        if self.mode not in MODES:
            raise ExtractError(f"unknown mode {self.mode!r}; expected one of {', '.join(MODES)}")
        if self.mode == "backfill" and self.since is None:
            raise ExtractError("--mode backfill needs --since (and optionally --until)")
        if self.mode != "backfill" and (self.since is not None or self.until is not None):
            raise ExtractError("--since/--until apply to --mode backfill only")


def run(spark, cfg: Config, args) -> list[RunSummary]:
    """The job's `run`: `args` has tables, mode, since, until (jobs/batch/postgres_extract.py)."""
    request = ExtractRequest(args.mode, args.since, args.until)
    summaries, failed = [], []
    metrics = publisher(cfg)
    try:
        for name in select_tables(cfg.extract, args.tables):
            try:
                summaries.append(extract_table(spark, cfg, name, request))
            except Exception:
                log.exception("postgres-extract %s [%s] failed (its data and position commit together or not at "
                              "all)", name, request.mode)
                failed.append(name)
                continue
            summary, spec = summaries[-1], cfg.extract.tables[name]
            with phase("metrics"):
                for metric, value, unit in summary.figures():
                    metrics.emit(metric, value, unit, job=JOB, table=f"{spec.target_layer}.{spec.target_name}",
                                 mode=request.mode)
            if summary.not_yet_extracted:
                log.error("postgres-extract %s: %d source row(s) at or below the position are missing from the "
                          "target (keys %s...): incremental runs never read them; run --mode full-refresh, or "
                          "--mode backfill --since <their oldest cursor>", name, summary.not_yet_extracted,
                          list(summary.not_yet_extracted_sample))
                failed.append(name)
    finally:
        with phase("metrics"):
            metrics.close()
    if failed:
        raise ExtractError(f"postgres-extract failed for: {', '.join(failed)} (see the errors above)")
    return summaries


def select_tables(extract: ExtractConfig, tables: Optional[str]) -> list[str]:
    """`--tables`: comma-separated configured names, or `all` (the default)."""
    if tables is None or tables.strip() == "all":
        return list(extract.tables)
    names = [name.strip() for name in tables.split(",") if name.strip()]
    unknown = [name for name in names if name not in extract.tables]
    if unknown or not names:
        raise ExtractError(f"unknown table(s) {unknown or tables!r}; configured: {', '.join(extract.tables)}, or all")
    return names


def extract_table(spark, cfg: Config, name: str, request: ExtractRequest) -> RunSummary:
    """Runs one configured table in the requested mode and logs its summary line."""
    spec = cfg.extract.tables[name]
    started = time.monotonic()
    with connect(cfg.postgres, f"lakehouse-postgres-extract:{name}") as conn, spark_jobs(spark, name) as jobs:
        with phase("catalog"):
            source = resolve_table(conn, spec)
            cursor_offset = cursor_utc_offset(conn, cfg.postgres, name, spec, source)
        since = None if request.since is None else parse_text(request.since, source.type_of(source.cursor))
        until = None if request.until is None else parse_text(request.until, source.type_of(source.cursor))
        if since is not None and until is not None and not since < until:
            raise ExtractError(f"--since {request.since} must be before --until {request.until}")
        delay = spec.safety_delay_s if spec.safety_delay_s is not None else cfg.extract.safety_delay_s
        table_run = TableRun(name, spec, source, cfg.lake.table_path(spec.target_layer, spec.target_name),
                             cfg.extract.late_commit_guard, delay, cursor_offset)
        if request.mode == "incremental":
            figures = incremental(spark, cfg, table_run, conn)
        elif request.mode == "full-refresh":
            figures = full_refresh(spark, cfg, table_run, conn)
        elif request.mode == "backfill":
            figures = backfill(spark, cfg, table_run, conn, since, until)
        else:
            figures = reconcile(spark, cfg, table_run, conn)
        summary = RunSummary(table=name, mode=request.mode, spark_jobs=jobs(),
                             elapsed_s=time.monotonic() - started, **figures)
    log.info("%s", summary.line())
    return summary


@contextlib.contextmanager
def spark_jobs(spark, name: str) -> Iterator[Callable[[], int]]:
    """Tags the Spark jobs started inside with one job group; yields a counter of them."""
    context = spark.sparkContext
    group = f"postgres-extract:{name}:{uuid.uuid4().hex[:8]}"
    context.setJobGroup(group, f"postgres-extract {name}")
    try:
        yield lambda: len(context.statusTracker().getJobIdsForGroup(group))
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
        context.setLocalProperty("spark.job.description", None)

