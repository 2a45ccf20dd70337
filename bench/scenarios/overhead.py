"""S9: what job metrics and lineage add to a small silver micro-batch (issue 14's goal: under 5%).

Runs bench/scenarios/overhead_job.py with spark-submit (the real silver run, blocks of small
micro-batches rotating between metrics and lineage off, on as configured, and on with the Spark
listener reporting every batch's writes, in one JVM) and keeps the batch
durations of each side, the listener bus's drain after each block, the metrics CloudWatch (moto)
received and the lineage events written.
"""
from __future__ import annotations

import json
import statistics

from bench.context import BenchContext
from bench.harness import say

LAKE = "overhead"


def run(ctx: BenchContext, wanted: list[str]) -> None:
    sizes = ctx.sizes
    out = ctx.work / "overhead.json"
    events = ctx.lake(LAKE) / "lineage.jsonl"
    say(f"S9: silver micro-batches of {sizes.overhead_rows} records, {sizes.overhead_rounds} x "
        f"{sizes.overhead_batches} per side, metrics and lineage off, on, and on reporting every batch")
    extra = ("lineage.enabled=true", "lineage.transport=file", f"lineage.file={events}", "metrics.enabled=true",
             f"metrics.namespace=Bench/{ctx.run_id}")
    proc = ctx.job("S9-overhead", "bench/scenarios/overhead_job.py", ctx.overrides(LAKE, extra=extra),
                   "--rows", str(sizes.overhead_rows), "--batches", str(sizes.overhead_batches),
                   "--rounds", str(sizes.overhead_rounds), "--warmup", str(sizes.overhead_warmup),
                   "--out", str(out)).start()
    proc.wait_reporting(sizes.job_timeout_s, lambda: _last_line(proc), every_s=30.0)
    ctx.results.put("S9", **summary(json.loads(out.read_text())), wall_s=proc.elapsed_s)


def summary(figures: dict) -> dict:
    """Per side: the median batch, and the blocks' wall and CPU time (run start and stop, listeners'
    drain) per batch."""
    for side in ("off", "on", "every"):
        batches = figures[side]["batch_ms"]
        figures[side]["median_ms"] = statistics.median(batches)
        figures[side]["wall_per_batch_ms"] = 1000 * sum(figures[side]["wall_s"]) / len(batches)
        figures[side]["cpu_per_batch_ms"] = 1000 * sum(figures[side]["cpu_s"]) / len(batches)
    off = figures["off"]
    for side in ("on", "every"):
        on = figures[side]
        say(f"S9 {side}: median batch {off['median_ms']:.0f} ms off, {on['median_ms']:.0f} ms {side} "
            f"({on['median_ms'] / off['median_ms'] - 1:+.1%}); CPU per batch {off['cpu_per_batch_ms']:.0f} ms off, "
            f"{on['cpu_per_batch_ms']:.0f} ms {side} ({on['cpu_per_batch_ms'] / off['cpu_per_batch_ms'] - 1:+.1%}); "
            f"lineage events {off['lineage_events']} off, {on['lineage_events']} {side}")
    say(f"S9: {len(figures['metrics_sent'])} metric names in CloudWatch")
    return figures


def _last_line(proc) -> str:
    lines = [line for line in proc.log_text().splitlines() if line.startswith("overhead_job:")]
    return lines[-1] if lines else "building bronze"
