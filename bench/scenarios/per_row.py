"""S10: the catch-up jobs' steady per-row cost, part by part, each part's rate beside its baseline's.

Runs bench/scenarios/per_row_job.py with spark-submit over the first records of S1's backlog and S1's
bronze table (S1 runs first if it has not). Bronze's parts are compared with B1 (the whole of B1: read
Kafka, build Arrow batches, append to Delta), silver's with B2's silver step (parse with orjson, MERGE
with deltalake), when they ran: a part that alone runs slower than the baseline's whole work bounds
what the job can reach with that part in it.
"""
from __future__ import annotations

import json

from bench.context import BenchContext
from bench.harness import say
from bench.report import per_row_baselines
from bench.scenarios.catchup import LAKE, bronze_catchup
from bench.scenarios.preload import loaded_topic


def run(ctx: BenchContext, wanted: list[str]) -> None:
    sizes = ctx.sizes
    bronze_catchup(ctx)
    loaded = loaded_topic(ctx)
    out, scratch = ctx.work / "per_row.json", ctx.lake("per_row") / "scratch"
    say(f"S10: parts of a bronze and a silver micro-batch over {sizes.per_row_rows:,} records, "
        f"best of {sizes.per_row_repeats} runs each")
    proc = ctx.job("S10-per-row", "bench/scenarios/per_row_job.py", ctx.overrides("per_row", loaded["topic"]),
                   "--bronze", ctx.table_path(LAKE, "bronze", "user_events"), "--rows", str(sizes.per_row_rows),
                   "--repeats", str(sizes.per_row_repeats), "--scratch", str(scratch), "--out", str(out)).start()
    proc.wait(sizes.job_timeout_s)
    parts = json.loads(out.read_text())
    for figures in parts.values():
        figures["rows_per_s"] = figures["rows"] / figures["best_s"]
    print_parts(parts, per_row_baselines(ctx))
    ctx.results.put("S10", parts=parts, rows=sizes.per_row_rows, repeats=sizes.per_row_repeats,
                    wall_s=proc.elapsed_s)


def print_parts(parts: dict, baselines: dict) -> None:
    width = max(len(name) for name in parts)
    for group in ("bronze", "silver"):
        name, rate = baselines[group]
        against = f"{name} {rate:,.0f} rows/s" if rate else f"{name}: not run"
        say(f"S10: {group} parts (best run each), against {against}:")
        for part, figures in parts.items():
            if figures["group"] == group:
                ratio = f"{figures['rows_per_s'] / rate:6.2f}x" if rate else ""
                print(f"    {part.ljust(width)}  {figures['rows']:>10,} rows  {figures['best_s']:7.2f} s  "
                      f"{figures['rows_per_s']:>10,.0f} rows/s  {ratio}")
    print(flush=True)
