"""S1 bronze catch-up and S2 bronze + silver catch-up over the pre-loaded backlog.

Both jobs run as scheduled runs do: spark-submit with `--trigger available-now`, reading the
whole backlog in micro-batches, then exiting. Rates are records over the process's wall time,
JVM start-up included. S2 is the bronze run followed by the silver run (an Airflow DAG's two
tasks); its silver table must hold exactly the distinct event ids that were produced.

Each run goes through streaming_job.py, so its wall time is also split phase by phase
(bench.job_phases: start-up, the first micro-batch, the later ones by Spark's phase, the end), and
the later batches' own rate is reported beside the whole run's.
"""
from __future__ import annotations

from bench.checks import distinct_values
from bench.context import BenchContext
from bench.deltalog import DeltaLog
from bench.harness import BenchError, say
from bench.job_phases import batch_rates, print_phases, read_events, run_phases, steady_rate
from bench.scenarios.always_on import STREAMING_JOB
from bench.scenarios.preload import loaded_topic

LAKE = "catchup"


def bronze_catchup(ctx: BenchContext) -> dict:
    """Runs the bronze job over the backlog once per run; returns its figures."""
    return ctx.once("bronze_catchup", lambda: _bronze(ctx))


def _bronze(ctx: BenchContext) -> dict:
    loaded = loaded_topic(ctx)
    sizes = ctx.sizes
    table = DeltaLog(ctx.table_path(LAKE, "bronze", "user_events"))
    say(f"bronze job (available-now, maxOffsetsPerTrigger {sizes.bronze_max_offsets:,}) over {loaded['records']:,} "
        "records")
    events = ctx.work / "S1-bronze.jsonl"
    proc = ctx.job("S1-bronze", STREAMING_JOB, ctx.overrides(LAKE, loaded["topic"]), "--job", "kafka_to_bronze",
                   "--phases-out", str(events), "--topics", "user_events", "--trigger", "available-now",
                   "--max-offsets-per-trigger", str(sizes.bronze_max_offsets)).start()
    proc.wait_reporting(sizes.job_timeout_s, lambda: f"{table.rows():,} rows committed")
    rows = table.rows()
    if rows != loaded["records"]:
        raise BenchError(f"bronze holds {rows:,} rows, the topic {loaded['records']:,} records")
    batches = [c for c in table.commits if c.operation == "STREAMING UPDATE"]
    figures = {
        "events": rows,
        "wall_s": proc.elapsed_s,
        "events_per_s": rows / proc.elapsed_s,
        "peak_mb": proc.peak_mb(),
        "micro_batches": len(batches),
        "first_commit_after_s": (batches[0].timestamp_ms / 1000 - proc.wall_started) if batches else None,
        "avg_event_bytes": loaded["avg_event_bytes"],
        "max_offsets_per_trigger": sizes.bronze_max_offsets,
        **timed_run(events, "bronze.", proc, "S1: bronze"),
    }
    say(f"bronze: {rows:,} rows in {proc.elapsed_s:.1f}s = {figures['events_per_s']:,.0f} events/s, "
        f"{len(batches)} micro-batches, peak {figures['peak_mb']:,.0f} MiB")
    return figures


def timed_run(events_path, query: str, proc, title: str) -> dict:
    """The run's phases (they add up to its wall time), its later batches' rate and each batch's, printed."""
    events = read_events(events_path)
    phases = run_phases(events, query, proc.wall_started, proc.wall_started + proc.elapsed_s)
    steady = steady_rate(events, query)
    rates = batch_rates(events, query)
    print_phases(f"{title}, where the {proc.elapsed_s:.1f}s went, seconds:", phases)
    if steady is not None:
        say(f"{title}: the batches after the first ran at {steady:,.0f} rows/s")
    say(f"{title}: each batch, rows/s of its own time: {', '.join(f'{rate:,.0f}' for rate in rates)}")
    return {"phases": phases, "steady_events_per_s": steady, "batch_rows_per_s": rates}


def run_s1(ctx: BenchContext) -> None:
    ctx.results.put("S1", **bronze_catchup(ctx))


def run_s2(ctx: BenchContext) -> None:
    bronze = bronze_catchup(ctx)
    loaded = loaded_topic(ctx)
    sizes = ctx.sizes
    silver_path = ctx.table_path(LAKE, "silver", "user_events")
    table = DeltaLog(silver_path)
    say(f"silver job (available-now, maxFilesPerTrigger {sizes.silver_max_files}) over bronze")
    events = ctx.work / "S2-silver.jsonl"
    proc = ctx.job("S2-silver", STREAMING_JOB, ctx.overrides(LAKE, loaded["topic"]), "--job", "bronze_to_silver",
                   "--phases-out", str(events), "--tables", "user_events", "--trigger", "available-now",
                   "--max-files-per-trigger", str(sizes.silver_max_files)).start()
    proc.wait_reporting(sizes.job_timeout_s, lambda: f"{table.rows():,} silver rows committed")
    silver = timed_run(events, "silver.", proc, "S2: silver")
    rows = table.rows()
    distinct_ids = distinct_values(silver_path, "event_id")
    total_s = bronze["wall_s"] + proc.elapsed_s
    ctx.results.put(
        "S2",
        events=loaded["records"],
        bronze_s=bronze["wall_s"],
        silver_s=proc.elapsed_s,
        wall_s=total_s,
        events_per_s=loaded["records"] / total_s,
        silver_rows=rows,
        silver_distinct_ids=distinct_ids,
        expected_distinct=loaded["distinct"],
        rows_match=rows == distinct_ids == loaded["distinct"],
        silver_peak_mb=proc.peak_mb(),
        silver_micro_batches=sum(c.operation == "MERGE" for c in table.commits),
        max_files_per_trigger=sizes.silver_max_files,
        silver_phases=silver["phases"],
        silver_steady_rows_per_s=silver["steady_events_per_s"],
    )
    say(f"silver: {rows:,} rows ({distinct_ids:,} distinct ids, {loaded['distinct']:,} expected) in "
        f"{proc.elapsed_s:.1f}s; bronze + silver {loaded['records'] / total_s:,.0f} events/s")
    if rows != loaded["distinct"] or distinct_ids != rows:
        raise BenchError(f"silver holds {rows:,} rows with {distinct_ids:,} distinct ids; "
                         f"{loaded['distinct']:,} distinct ids were produced")
