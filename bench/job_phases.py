"""Where a streaming job's wall time went, from the events streaming_job.py writes as they happen.

Start-up (`startup_phases`) is the same for every run: `launch` (spark-submit's JVM and Python up to
the driver script's first line), `imports`, `spark_start` (config and the SparkSession), the
start-up record's phases (checkpoint lock, tables, start position, query start) and `start_other`.
A catch-up run (`run_phases`) then adds its first micro-batch, the later ones by Spark's phase
(silver's addBatch by its foreachBatch handler's phases), the gaps between batches and the end
(queries stopped, SparkSession stopped, process exit). The phases of a run add up to its wall time.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

from bench.harness import say

# Spark's progress durations, in the order a micro-batch runs them; the rest of triggerExecution is "other".
SPARK_PHASES = ("latestOffset", "getBatch", "queryPlanning", "walCommit", "addBatch", "commitOffsets")


def read_events(path: Path) -> list[dict]:
    with open(path) as lines:
        return [json.loads(line) for line in lines if line.strip()]


def startup_phases(events: list[dict], launched_at: float, labels: dict[str, str]) -> tuple[dict[str, float], float]:
    """The start-up's phases (see the module) and when it ended. `labels`: start-up record label ->
    prefix of its phases (one driver records bronze's "start", then "start silver")."""
    process = next(e for e in events if e["event"] == "process")
    ready = next(e for e in events if e["event"] == "spark_ready")
    starts = [e for e in events if e["event"] == "record" and e["label"] in labels]
    phases = {"launch": process["started_at"] - launched_at, "imports": process["at"] - process["started_at"],
              "spark_start": ready["at"] - process["at"]}
    for start in starts:
        prefix = labels[start["label"]]
        phases.update({prefix + name: seconds for name, seconds in start["phases"].items() if seconds >= 0.005})
    ended = max(start["started_at"] + start["total_s"] for start in starts)
    phases["start_other"] = ended - ready["at"] - sum(sum(start["phases"].values()) for start in starts)
    return phases, ended


def batches(events: list[dict], query: str) -> list[dict]:
    """The micro-batches of the queries whose names start with `query`, in order: batch id, rows,
    epoch start and end, Spark's durations in seconds."""
    found = []
    for progress in (e for e in events if e["event"] == "progress" and e["query"].startswith(query)):
        began = epoch_s(progress["trigger_started"])
        seconds = {name: ms / 1000 for name, ms in progress["durations_ms"].items()}
        found.append({"batch_id": progress["batch_id"], "rows": progress["rows"], "began": began,
                      "ended": began + seconds.get("triggerExecution", 0.0), "seconds": seconds})
    return sorted(found, key=lambda batch: batch["began"])


def run_phases(events: list[dict], query: str, launched_at: float, ended_at: float) -> dict[str, float]:
    """Where a run to completion (available-now) went, from launch to process exit, in order."""
    phases, at = startup_phases(events, launched_at, {"start": ""})
    runs = batches(events, query)
    if runs:
        first, rest = runs[0], runs[1:]
        phases["query_init"] = first["began"] - at
        phases[f"first batch ({first['rows']:,} rows)"] = first["ended"] - first["began"]
        at = first["ended"]
        if rest:
            label = f"batches 2-{len(runs)}"
            spark = Counter()
            for batch in rest:
                spark["between batches"] += batch["began"] - at
                for name in SPARK_PHASES:
                    spark[name] += batch["seconds"].get(name, 0.0)
                spark["other"] += batch["seconds"].get("triggerExecution", 0.0) - sum(
                    batch["seconds"].get(name, 0.0) for name in SPARK_PHASES)
                at = batch["ended"]
            spark = _with_handler_phases(spark, events, query, rest)
            phases.update({f"{label}: {name}": seconds for name, seconds in spark.items()})
    stopped = next((e["at"] for e in events if e["event"] == "spark_stopped"), ended_at)
    phases["stop"] = stopped - at
    phases["exit"] = ended_at - stopped
    return phases


def _with_handler_phases(spark: Counter, events: list[dict], query: str, runs: list[dict]) -> dict[str, float]:
    """`spark` with addBatch split into the phases of the foreachBatch handler's records (silver's), summed
    over `runs`, and the time addBatch spent outside the handler; unchanged when the batches have none."""
    ids = {batch["batch_id"] for batch in runs}
    records = [e for e in events if e["event"] == "record" and e["label"].startswith(query)
               and e["batch_id"] in ids]
    if not records or "addBatch" not in spark:
        return dict(spark)
    handler = Counter()
    for record in records:
        handler.update(record["phases"])
    inside = sum(record["total_s"] for record in records)
    handler["other"] = inside - sum(handler.values())
    split = {}
    for name, seconds in spark.items():
        if name == "addBatch":
            split.update({f"addBatch: handler {phase}": spent for phase, spent in handler.items()})
            split["addBatch: outside the handler"] = seconds - inside
        else:
            split[name] = seconds
    return split


def steady_rate(events: list[dict], query: str) -> float | None:
    """Rows per second of the batches after the first (the gaps between them included), or None."""
    runs = batches(events, query)
    if len(runs) < 2:
        return None
    seconds = runs[-1]["ended"] - runs[0]["ended"]
    return sum(batch["rows"] for batch in runs[1:]) / seconds if seconds > 0 else None


def batch_rates(events: list[dict], query: str) -> list[float]:
    """Each micro-batch's rows per second of its own time (Spark's triggerExecution), in order: how a
    job's per-row cost settles as its JVM warms up."""
    return [batch["rows"] / (batch["ended"] - batch["began"]) for batch in batches(events, query)
            if batch["ended"] > batch["began"]]


def batch_stats(events: list[dict], query: str, start_s: float, end_s: float) -> dict:
    """The micro-batches of `query` that ended in [start_s, end_s): how many, their duration (p50, p99,
    max; Spark's addBatch p50 apart) and the time from one's trigger to the next's (p50), in seconds."""
    inside = [batch for batch in batches(events, query) if start_s <= batch["ended"] < end_s]
    if not inside:
        return {"batches": 0}
    durations = [batch["ended"] - batch["began"] for batch in inside]
    starts = [batch["began"] for batch in inside]
    return {"batches": len(inside), "p50_s": quantile(durations, 0.5), "p99_s": quantile(durations, 0.99),
            "max_s": max(durations),
            "add_batch_p50_s": quantile([batch["seconds"].get("addBatch", 0.0) for batch in inside], 0.5),
            "every_p50_s": quantile([b - a for a, b in zip(starts, starts[1:])], 0.5) if len(starts) > 1 else None}


def quantile(values: list[float], q: float) -> float:
    """The q-quantile of `values`, linearly interpolated (as bench.freshness's percentiles)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.quantile(pa.array(values, pa.float64()), q=q)[0].as_py()


def print_phases(title: str, phases: dict[str, float]) -> None:
    say(title)
    width = max(len(phase) for phase in phases)
    for phase, seconds in phases.items():
        print(f"    {phase.ljust(width)}  {seconds:7.2f}")


def epoch_s(iso: str) -> float:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
