"""S8: the fixed cost of one small micro-batch (~10 records) of bronze and of silver, phase by phase.

Runs bench/scenarios/fixed_cost_job.py with spark-submit (the always-on queries of both jobs in one
driver, warm) and prints, per contract and job, each phase's median and spread over the measured
batches, with the goal (silver <= 1.5 s, bronze <= 0.5 s per small batch on this machine).
Silver's `addBatch` (its foreachBatch call) is split into the handler's own phases; what the call
spent outside them is `addBatch (outside the handler)`. Work the handler runs on another thread at the
same time (quarantine's MERGE) is printed as `beside the handler: ...`, not in the sum. Bronze's
`addBatch` (Delta's sink) is split into the time its Spark jobs ran and the driver's own (the event
log's job times). Silver's figures also give the classes Janino compiled per round (both jobs'
batches): few once the generated code is reused; and the time the driver's JIT compilers spent per round,
in the warm-up rounds (not kept) and the measured ones: the batches are measured once the JIT has
compiled what they run.
"""
from __future__ import annotations

import json
import statistics

from bench.context import BenchContext
from bench.harness import say

LAKE = "fixed_cost"
GOALS_S = {"bronze": 0.5, "silver": 1.5}


def run(ctx: BenchContext, wanted: list[str]) -> None:
    sizes = ctx.sizes
    contracts = sizes.fixed_cost_contracts
    topics = [f"streaming.topics.{c}={ctx.create_topic(f'fixed_{c}', sizes.partitions)}" for c in contracts]
    out, events = ctx.work / "fixed_cost.json", ctx.work / "fixed_cost_events"
    events.mkdir(exist_ok=True)
    logging = ("spark.conf.spark.eventLog.enabled=true", f"spark.conf.spark.eventLog.dir={events}")
    say(f"S8: {sizes.fixed_cost_rows} records per micro-batch, {sizes.fixed_cost_rounds} batches per contract "
        f"after {sizes.fixed_cost_warmup} warm-up: {', '.join(contracts)}")
    proc = ctx.job("S8-fixed-cost", "bench/scenarios/fixed_cost_job.py", ctx.overrides(LAKE, extra=(*topics, *logging)),
                   "--contracts", ",".join(contracts), "--rows", str(sizes.fixed_cost_rows),
                   "--rounds", str(sizes.fixed_cost_rounds), "--warmup", str(sizes.fixed_cost_warmup),
                   "--interval", sizes.trigger, "--out", str(out), "--event-logs", str(events)).start()
    proc.wait(sizes.job_timeout_s)
    batches = json.loads(out.read_text())
    warmup = {contract: batches[contract].pop("warmup") for contract in batches}
    summary = {contract: {job: summarise(batches[contract][job], job) for job in ("bronze", "silver")}
               for contract in batches}
    for contract, jobs in summary.items():
        print_warmup(contract, warmup[contract], batches[contract]["silver"])
        for job, figures in jobs.items():
            print_phases(f"{job} micro-batch, {contract}", figures, GOALS_S[job])
    ctx.results.put("S8", rows_per_batch=sizes.fixed_cost_rows, contracts=summary, goals_s=GOALS_S,
                    batches=batches, warmup=warmup, wall_s=proc.elapsed_s)


def print_warmup(contract: str, warmup: list[dict], measured: list[dict]) -> None:
    """The warm-up rounds' silver batches, and the JIT's compile time per round then and when measured."""
    if not warmup:
        return
    silver = " ".join(f"{r['silver_s']:.2f}" for r in warmup)
    jit_then, jit_measured = (statistics.median(r["jit_ms"] for r in rounds) for rounds in (warmup, measured))
    say(f"S8 warm-up, {contract}: silver batches {silver} s (not kept); the JIT compiled for {jit_then:.0f} ms "
        f"per round (median) then, {jit_measured:.0f} ms in the measured rounds")


def flat_phases(batch: dict) -> dict[str, float]:
    """One batch's phases, silver's addBatch replaced by its handler's phases."""
    phases = dict(batch["phases"])
    if not batch.get("handler"):  # bronze: the Delta sink's write
        phases["addBatch: Spark jobs"] = batch["spark_jobs_s"]
        phases["addBatch: driver (plan, Delta log, commit)"] = phases.pop("addBatch") - batch["spark_jobs_s"]
    handler = batch.get("handler")
    if handler:
        phases["addBatch (outside the handler)"] = phases.pop("addBatch") - handler["total_s"]
        phases.update({f"handler: {name}": seconds for name, seconds in handler["phases"].items()})
        phases["handler: other"] = handler["total_s"] - sum(handler["phases"].values())
        phases.update({f"beside the handler: {name}": seconds for name, seconds in handler.get("beside", {}).items()})
    return phases


def summarise(batches: list[dict], job: str) -> dict:
    """Median, min and max of the batch total and of each phase (seconds)."""
    totals = [b["total_s"] for b in batches]
    names = list(dict.fromkeys(name for b in batches for name in flat_phases(b)))
    phases = {}
    for name in names:
        values = [flat_phases(b).get(name, 0.0) for b in batches]
        phases[name] = _spread(values)
    figures = {"batches": len(batches), **_spread(totals), "phases": phases,
               "spark_jobs": _spread([b["spark_jobs_s"] for b in batches]),
               "goal_s": GOALS_S[job], "met": statistics.median(totals) <= GOALS_S[job]}
    if all("classes_compiled" in b for b in batches):  # silver's batches carry their round's count
        figures["classes_compiled"] = statistics.median(b["classes_compiled"] for b in batches)
    return figures


def _spread(values: list[float]) -> dict:
    return {"median_s": statistics.median(values), "min_s": min(values), "max_s": max(values)}


def print_phases(title: str, figures: dict, goal_s: float) -> None:
    met = "met" if figures["met"] else "NOT met"
    say(f"S8 {title}: median {figures['median_s']:.2f} s (min {figures['min_s']:.2f}, max {figures['max_s']:.2f}, "
        f"{figures['batches']} batches); goal <= {goal_s:g} s: {met}")
    jobs = figures["spark_jobs"]
    print(f"    of which Spark jobs ran: median {jobs['median_s']:.2f} s (min {jobs['min_s']:.2f}, "
          f"max {jobs['max_s']:.2f}); the rest is the driver's")
    if "classes_compiled" in figures:
        print(f"    classes Janino compiled per round (bronze's batch and silver's): "
              f"median {figures['classes_compiled']:g}")
    width = max(len(name) for name in figures["phases"])
    print(f"    {'phase'.ljust(width)}  median     min     max")
    for name, spread in figures["phases"].items():
        if spread["max_s"] >= 0.0005:
            print(f"    {name.ljust(width)}  {spread['median_s']:6.3f}  {spread['min_s']:6.3f}  {spread['max_s']:6.3f}")
    print(flush=True)

