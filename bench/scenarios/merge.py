"""S4: milliseconds per silver MERGE batch, with and without the options that prune the target.

Runs bench/scenarios/merge_job.py with spark-submit (the MERGE writer every silver job uses,
lakehouse.sinks.delta.merge_into) and keeps its per-batch timings and Delta operation metrics.
"""
from __future__ import annotations

import json

from bench.context import BenchContext
from bench.harness import say

LAKE = "merge"


def run(ctx: BenchContext, wanted: list[str]) -> None:
    sizes = ctx.sizes
    out = ctx.work / "merge.json"
    targets = ",".join(str(t) for t in sizes.merge_targets)
    batches = ",".join(str(b) for b in sizes.merge_batches)
    say(f"S4: MERGE batches of {batches} rows into targets of {targets} rows, {sizes.merge_repeats} each, "
        "three variants (no pruning, partition pruning, + deletion vectors)")
    proc = ctx.job("S4-merge", "bench/scenarios/merge_job.py", ctx.overrides(LAKE), "--targets", targets,
                   "--batches", batches, "--repeats", str(sizes.merge_repeats), "--days", str(sizes.merge_days),
                   "--out", str(out), *([] if sizes.merge_warmup else ["--no-warmup"])).start()
    proc.wait_reporting(sizes.job_timeout_s, lambda: _last_line(proc), every_s=30.0)
    ctx.results.put("S4", targets=json.loads(out.read_text()), repeats=sizes.merge_repeats, days=sizes.merge_days,
                    wall_s=proc.elapsed_s)


def _last_line(proc) -> str:
    lines = [line for line in proc.log_text().splitlines() if line.startswith("merge_job:")]
    return lines[-1] if lines else "building the targets"
