"""S5: files written per micro-batch per table (from the Delta log), and what OPTIMIZE changes.

Counted on the always-on tables (1-second trigger, where small files come from) and on the
catch-up tables when S1/S2 ran. OPTIMIZE is the maintenance job (`lakehouse-maintenance
--skip-vacuum`, ZORDER as configured), run as users run it; readers are timed with deltalake,
the reader dbt-duckdb uses, before and after.
"""
from __future__ import annotations

import os
import time

from bench.checks import read_columns
from bench.context import BenchContext
from bench.deltalog import DeltaLog
from bench.harness import say

BATCH_OPERATIONS = ("STREAMING UPDATE", "MERGE", "WRITE")
MAINTENANCE_JOB = "jobs/batch/table_maintenance.py"
TABLES = ("bronze", "silver")


def files_per_batch(table_path: str) -> dict:
    """Data files added by each micro-batch commit: count, mean, max."""
    log = DeltaLog(table_path)
    log.refresh()
    counts = [sum(f.data_change for f in c.added) for c in log.commits if c.operation in BATCH_OPERATIONS]
    counts = [n for n in counts if n]
    if not counts:
        return {"batches": 0, "mean": None, "max": None}
    return {"batches": len(counts), "mean": sum(counts) / len(counts), "max": max(counts)}


def scan_seconds(table_path: str) -> float:
    """Best of two full reads of the table with deltalake -> pyarrow (all columns)."""
    from deltalake import DeltaTable

    columns = [f.name for f in DeltaTable(table_path).schema().fields]
    best = float("inf")
    for _ in range(2):
        started = time.monotonic()
        read_columns(table_path, columns)
        best = min(best, time.monotonic() - started)
    return best


def small_files(ctx: BenchContext, lake: str, overrides: list[str]) -> dict:
    figures: dict = {}
    for source in (lake, "catchup"):
        for layer in TABLES:
            path = ctx.table_path(source, layer, "user_events")
            if os.path.isdir(f"{path}/_delta_log"):
                figures[f"{source}_{layer}_files_per_batch"] = files_per_batch(path)
    before = {layer: _layout(ctx.table_path(lake, layer, "user_events")) for layer in TABLES}
    say("S5: OPTIMIZE of the always-on tables with the maintenance job")
    proc = ctx.job("S5-optimize", MAINTENANCE_JOB, overrides, "--tables", "bronze.user_events,silver.user_events",
                   "--skip-vacuum").start()
    proc.wait(ctx.sizes.job_timeout_s)
    after = {layer: _layout(ctx.table_path(lake, layer, "user_events")) for layer in TABLES}
    figures["optimize_wall_s"] = proc.elapsed_s
    for layer in TABLES:
        figures[f"{layer}_before"] = before[layer]
        figures[f"{layer}_after"] = after[layer]
        say(f"S5: {layer}: {before[layer]['files']} files -> {after[layer]['files']}, "
            f"scan {before[layer]['scan_s']:.2f}s -> {after[layer]['scan_s']:.2f}s")
    return figures


def _layout(path: str) -> dict:
    live = DeltaLog(path).live_files()
    size = sum(f.size for f in live.values())
    return {"files": len(live), "avg_file_kib": size / max(len(live), 1) / 1024, "scan_s": scan_seconds(path)}
