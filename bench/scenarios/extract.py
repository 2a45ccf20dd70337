"""S6 Postgres extract, with C0 (COPY TO STDOUT) and C1 (connectorx -> deltalake) on the same table.

The orders table of a private schema is filled with `pg_rows` rows. C0 and C1 read it first.
Then the extract job runs three times with spark-submit: a full refresh (rows/s from the job's
own per-table time, and wall time), a run after `pg_update_share` of the rows were updated, and
a run with nothing new; the last two in wall time, Spark start-up included. The late-commit guard
is `delay` here: on this shared database, other sessions' open transactions would otherwise hold
the bound back (the guard's cost is one query either way).
"""
from __future__ import annotations

import re
import time

from bench.baselines.postgres import connectorx_to_delta, copy_to_stdout
from bench.context import BenchContext
from bench.deltalog import DeltaLog
from bench.harness import BenchError, say
from bench.pgsource import extract_table_config, fill, update_share

LAKE = "extract"
JOB = "jobs/batch/postgres_extract.py"
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
    if "C1" in wanted:
        figures = connectorx_to_delta(ctx.cfg, schema, "orders", "order_id", sizes.pg_partitions,
                                      ctx.table_path("baseline", "silver", "orders"))
        ctx.results.put("C1", **figures)
        say(f"C1: connectorx -> deltalake {figures['rows_per_s']:,.0f} rows/s "
            f"(read {figures['read_s']:.1f}s, write {figures['write_s']:.1f}s)")
    if "S6" in wanted:
        ctx.results.put("S6", **_extract_runs(ctx, schema))


def _extract_runs(ctx: BenchContext, schema: str) -> dict:
    from lakehouse.sources.postgres import connect

    sizes = ctx.sizes
    overrides = ctx.overrides(LAKE, extra=(extract_table_config(schema, sizes.pg_partitions, sizes.pg_fetch_size),
                                           "extract.late_commit_guard=delay", "extract.safety_delay_s=1"))
    full = _job(ctx, overrides, "full-refresh", sizes.pg_rows)
    with connect(ctx.cfg.postgres, "lakehouse-bench", read_only=False) as conn:
        updated = update_share(conn, schema, sizes.pg_update_share)
    time.sleep(2.0)  # the updates fall below now() - safety_delay_s
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
        "incremental_rows": incremental["rows_read"],
        "incremental_wall_s": incremental["wall_s"],
        "empty_wall_s": empty["wall_s"],
        "empty_job_s": empty["job_s"],
        "num_partitions": sizes.pg_partitions,
        "fetch_size": sizes.pg_fetch_size,
    }


def _job(ctx: BenchContext, overrides: list[str], mode: str, expected_rows: int, name: str = "") -> dict:
    name = name or mode
    say(f"S6: postgres_extract --mode {mode} ({name})")
    proc = ctx.job(f"S6-{name}", JOB, overrides, "--tables", "bench_orders", "--mode", mode).start()
    proc.wait(ctx.sizes.job_timeout_s)
    found = SUMMARY.search(proc.log_text())
    if not found:
        raise BenchError(f"no summary line for bench_orders in {proc.log_path}")
    rows = int(found["rows"])
    if rows != expected_rows:
        raise BenchError(f"{name} run read {rows:,} rows, expected {expected_rows:,}")
    figures = {"rows_read": rows, "job_s": float(found["elapsed"]), "wall_s": proc.elapsed_s, "peak_mb": proc.peak_mb()}
    say(f"S6: {name}: {rows:,} rows, {figures['job_s']:.1f}s in the job, {figures['wall_s']:.1f}s wall")
    return figures
