"""Runs B1 (per-partition consumers into bronze) and B2 (B1, then the silver MERGE step) over the backlog."""
from __future__ import annotations

import json
import time

from bench.baselines.consumer import create_table
from bench.checks import distinct_values
from bench.context import BenchContext
from bench.deltalog import DeltaLog
from bench.harness import BenchError, MemorySampler, say
from bench.scenarios.preload import loaded_topic

LAKE = "baseline"


def b1_bronze(ctx: BenchContext) -> dict:
    """One consumer process per partition, all started at once; figures over the slowest one."""
    return ctx.once("b1", lambda: _b1(ctx))


def _b1(ctx: BenchContext) -> dict:
    loaded = loaded_topic(ctx)
    sizes = ctx.sizes
    path = ctx.table_path(LAKE, "bronze", "user_events")
    create_table(path)
    table = DeltaLog(path)
    say(f"B1: {sizes.partitions} consumer processes (confluent-kafka -> pyarrow -> deltalake append every "
        f"{sizes.b1_batch_records:,} records) over {loaded['records']:,} records")
    sampler = MemorySampler()
    started = time.monotonic()
    procs = [
        ctx.python(f"B1-partition-{p}", "bench.baselines.consumer", "--topic", loaded["topic"], "--partition", str(p),
                   "--table", path, "--batch", str(sizes.b1_batch_records),
                   "--report", str(ctx.work / f"b1-{p}.json"), sampler=sampler).start()
        for p in range(sizes.partitions)
    ]
    for proc in procs:
        proc.wait_reporting(sizes.job_timeout_s, lambda: f"{table.rows():,} rows committed")
    wall = time.monotonic() - started
    peak = sampler.close()
    reports = [json.loads((ctx.work / f"b1-{p}.json").read_text()) for p in range(sizes.partitions)]
    rows = table.rows()
    if rows != loaded["records"]:
        raise BenchError(f"B1 bronze holds {rows:,} rows, the topic {loaded['records']:,} records")
    figures = {
        "events": rows,
        "wall_s": wall,
        "events_per_s": rows / wall,
        "peak_mb": peak,
        "processes": sizes.partitions,
        "commits": sum(r["commits"] for r in reports),
        "commit_retries": sum(r["retries"] for r in reports),
        "batch_records": sizes.b1_batch_records,
    }
    say(f"B1: {rows:,} rows in {wall:.1f}s = {figures['events_per_s']:,.0f} events/s, {figures['commits']} commits "
        f"({figures['commit_retries']} retried), peak {peak:,.0f} MiB")
    return figures


def run_b1(ctx: BenchContext) -> None:
    ctx.results.put("B1", **b1_bronze(ctx))


def run_b2(ctx: BenchContext) -> None:
    bronze = b1_bronze(ctx)
    loaded = loaded_topic(ctx)
    sizes = ctx.sizes
    silver = ctx.table_path(LAKE, "silver", "user_events")
    table = DeltaLog(silver)
    say(f"B2: silver step (orjson -> pyarrow -> deltalake MERGE on event_id every {sizes.b2_chunk_rows:,} rows)")
    report_path = ctx.work / "b2.json"
    proc = ctx.python("B2-silver", "bench.baselines.silver", "--bronze", ctx.table_path(LAKE, "bronze", "user_events"),
                      "--silver", silver, "--chunk", str(sizes.b2_chunk_rows), "--report", str(report_path),
                      with_config=False).start()
    proc.wait_reporting(sizes.job_timeout_s, lambda: f"{table.rows():,} silver rows committed")
    report = json.loads(report_path.read_text())
    rows = table.rows()
    distinct_ids = distinct_values(silver, "event_id")
    total = bronze["wall_s"] + proc.elapsed_s
    ctx.results.put(
        "B2",
        events=loaded["records"],
        bronze_s=bronze["wall_s"],
        silver_s=proc.elapsed_s,
        wall_s=total,
        events_per_s=loaded["records"] / total,
        silver_rows=rows,
        silver_distinct_ids=distinct_ids,
        expected_distinct=loaded["distinct"],
        rows_match=rows == distinct_ids == loaded["distinct"],
        silver_peak_mb=proc.peak_mb(),
        merges=report["merges"],
        chunk_rows=sizes.b2_chunk_rows,
    )
    say(f"B2: silver {rows:,} rows in {proc.elapsed_s:.1f}s ({report['merges']} MERGEs); "
        f"B1 + silver step {loaded['records'] / total:,.0f} events/s")
    if rows != loaded["distinct"] or distinct_ids != rows:
        raise BenchError(f"B2 silver holds {rows:,} rows with {distinct_ids:,} distinct ids; "
                         f"{loaded['distinct']:,} distinct ids were produced")
