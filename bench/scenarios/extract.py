"""S6 Postgres extract, with C0 (COPY TO STDOUT), C1 (connectorx -> deltalake) and F6 (Spark's floor) on the
same table.

The orders table of a private schema is filled with `pg_rows` rows. C0 and C1 read it first.
Then the extract job runs a full refresh with spark-submit (rows/s from the job's own per-table
time, and wall time); `pg_update_share` of the rows are updated; C1-incremental reads the changed
rows after C1's last row and merges them into C1's table by key; the job runs again (the same
rows, wall time with Spark start-up, and its own time) and once more with nothing new. Each run
goes through extract_job.py, which records the job's phases; they are printed with the run's CPU
time. F6 (bench/scenarios/floor.py) reads the table after S6's full refresh and the changed rows after
S6's incremental run. The late-commit guard is `delay` here: on this shared database, other sessions' open transactions
would otherwise hold the bound back (the guard's cost is one query either way).
"""
from __future__ import annotations

import json
import os
import re
import resource
import time

from bench.baselines.postgres import connectorx_merge, connectorx_to_delta, copy_to_stdout, last_position
from bench.context import BenchContext
from bench.deltalog import DeltaLog
from bench.harness import BenchError, say
from bench.pgsource import extract_table_config, fill, update_share
from bench.scenarios import floor

LAKE = "extract"
JOB = "bench/scenarios/extract_job.py"  # jobs/batch/postgres_extract.py, its phases recorded
SAFETY_DELAY_S = 1.0
SUMMARY = re.compile(r"postgres-extract bench_orders \[(?P<mode>[a-z-]+)\] rows_read=(?P<rows>\d+).*"
                     r"elapsed=(?P<elapsed>[0-9.]+)s")


def run(ctx: BenchContext, wanted: list[str]) -> None:
    from lakehouse.sources.postgres import connect

    sizes = ctx.sizes
    schema = ctx.create_schema()
    say(f"filling {schema}.orders with {sizes.pg_rows:,} rows ({sizes.pg_users:,} users)")
    started = time.monotonic()
    with connect(ctx.cfg.postgres, "lakehouse-bench", read_only=False) as conn:
        fill(conn, schema, sizes.pg_users, sizes.pg_rows)
    say(f"filled in {time.monotonic() - started:.1f}s")
    if "C0" in wanted:
        ctx.results.put("C0", **copy_to_stdout(ctx.cfg, schema, "orders"))
        say(f"C0: COPY TO STDOUT {ctx.results.get('C0', 'rows_per_s'):,.0f} rows/s")
    c1_path, c1_position = ctx.table_path("baseline", "silver", "orders"), None
    if "C1" in wanted:
        figures, arrow = connectorx_to_delta(ctx.cfg, schema, "orders", "order_id", sizes.pg_partitions, c1_path)
        c1_position = last_position(arrow, "updated_at", "order_id")
        del arrow
        ctx.results.put("C1", **figures)
        say(f"C1: connectorx -> deltalake {figures['rows_per_s']:,.0f} rows/s "
            f"(read {figures['read_s']:.1f}s, write {figures['write_s']:.1f}s)")
    overrides = ctx.overrides(LAKE, extra=(extract_table_config(schema, sizes.pg_partitions, sizes.pg_fetch_size),
                                           "extract.late_commit_guard=delay",
                                           f"extract.safety_delay_s={SAFETY_DELAY_S:g}"))
    full = _job(ctx, overrides, "full-refresh", sizes.pg_rows) if "S6" in wanted else None
    floor_full = floor.extract_full(ctx, schema, sizes.pg_rows) if "F6" in wanted else None
    if full is None and c1_position is None and floor_full is None:
        return
    with connect(ctx.cfg.postgres, "lakehouse-bench", read_only=False) as conn:
        floor_position = floor.newest_position(conn, schema)
        updated = update_share(conn, schema, sizes.pg_update_share)
    time.sleep(SAFETY_DELAY_S + 1.0)  # the updates fall below now() - safety delay
    if c1_position is not None:
        ctx.results.put("C1", **_c1_incremental(ctx, schema, c1_path, c1_position, updated))
    if full is not None:
        ctx.results.put("S6", **_extract_runs(ctx, overrides, full, updated))
    if floor_full is not None:
        ctx.results.put("F6", **floor.extract_incremental(ctx, schema, floor_position, updated, SAFETY_DELAY_S,
                                                          floor_full))


def _c1_incremental(ctx: BenchContext, schema: str, path: str, position: tuple, updated: int) -> dict:
    figures = connectorx_merge(ctx.cfg, schema, "orders", "order_id", "updated_at", position,
                               ctx.sizes.pg_partitions, path, SAFETY_DELAY_S)
    if figures["rows"] != updated or figures["updated"] != updated:
        raise BenchError(f"C1-incremental read {figures['rows']:,} rows and updated {figures['updated']:,}, "
                         f"expected {updated:,}")
    say(f"C1-incremental: {updated:,} changed rows, {figures['rows_per_s']:,.0f} rows/s "
        f"(read {figures['read_s']:.1f}s, merge {figures['merge_s']:.1f}s)")
    return {f"incremental_{name}": value for name, value in figures.items()}


def _extract_runs(ctx: BenchContext, overrides: list[str], full: dict, updated: int) -> dict:
    sizes = ctx.sizes
    incremental = _job(ctx, overrides, "incremental", updated)
    empty = _job(ctx, overrides, "incremental", 0, name="empty")
    target_rows = DeltaLog(ctx.table_path(LAKE, "silver", "bench_orders")).rows()
    if target_rows != sizes.pg_rows:
        raise BenchError(f"the extract's target holds {target_rows:,} rows, the source {sizes.pg_rows:,}")
    return {
        "rows": full["rows_read"],
        "rows_per_s": full["rows_read"] / full["job_s"],
        "rows_per_s_wall": full["rows_read"] / full["wall_s"],
        "full_job_s": full["job_s"],
        "full_wall_s": full["wall_s"],
        "full_peak_mb": full["peak_mb"],
        "full_cpu_s": full["cpu_s"],
        "incremental_rows": incremental["rows_read"],
        "incremental_wall_s": incremental["wall_s"],
        "incremental_job_s": incremental["job_s"],
        "incremental_rows_per_s": incremental["rows_read"] / incremental["job_s"],
        "incremental_cpu_s": incremental["cpu_s"],
        "incremental_rows_per_s_wall": incremental["rows_read"] / incremental["wall_s"],
        "empty_wall_s": empty["wall_s"],
        "empty_job_s": empty["job_s"],
        "phases": {"full_refresh": full["phases"], "incremental": incremental["phases"], "empty": empty["phases"]},
        "num_partitions": sizes.pg_partitions,
        "fetch_size": sizes.pg_fetch_size,
    }


def _job(ctx: BenchContext, overrides: list[str], mode: str, expected_rows: int, name: str = "") -> dict:
    """One run of the job (through extract_job.py, which records its phases): rows, job and wall
    time, CPU time of its processes (Postgres' not included), peak memory and the phases."""
    name = name or mode
    say(f"S6: postgres_extract --mode {mode} ({name})")
    phases_path = ctx.work / f"S6-{name}-phases.json"
    proc = ctx.job(f"S6-{name}", JOB, overrides, "--phases-out", str(phases_path), "--tables", "bench_orders",
                   "--mode", mode)
    cpu_before = _children_cpu_s()
    proc.start().wait(ctx.sizes.job_timeout_s)
    cpu_s = _children_cpu_s() - cpu_before
    found = SUMMARY.search(proc.log_text())
    if not found:
        raise BenchError(f"no summary line for bench_orders in {proc.log_path}")
    rows = int(found["rows"])
    if rows != expected_rows:
        raise BenchError(f"{name} run read {rows:,} rows, expected {expected_rows:,}")
    phases = _phases(json.loads(phases_path.read_text()), proc)
    figures = {"rows_read": rows, "job_s": float(found["elapsed"]), "wall_s": proc.elapsed_s, "cpu_s": cpu_s,
               "peak_mb": proc.peak_mb(), "phases": phases}
    say(f"S6: {name}: {rows:,} rows, {figures['job_s']:.1f}s in the job, {figures['wall_s']:.1f}s wall, "
        f"{cpu_s:.1f}s CPU (load {os.getloadavg()[0]:.1f}); phases, seconds:")
    width = max(len(phase) for phase in phases)
    for phase, seconds in phases.items():
        print(f"    {phase.ljust(width)}  {seconds:7.2f}")
    return figures


def _phases(record: dict, proc) -> dict[str, float]:
    """The run's wall time by phase: launch (spark-submit, JVM, Python and its imports), the job's
    own phases in the order they ran, and exit; `other` is the job's time outside any phase."""
    launch = record["started_at"] - proc.wall_started + record["imports_s"]
    inside = {name: seconds for name, seconds in record["phases"].items() if seconds >= 0.005}
    other = record["total_s"] - sum(record["phases"].values())
    exit_s = proc.elapsed_s - launch - record["total_s"]
    return {"launch": launch, **inside, "other": other, "exit": exit_s}


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
