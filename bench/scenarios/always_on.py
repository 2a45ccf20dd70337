"""S3 freshness, S7 restart and S5 small files, on one pair of always-on jobs.

The bronze and silver jobs run as spark-submit processes with a 1-second processing-time
trigger on a private topic. A producer process sends at the idle rate until both jobs have
committed batches, and `warmup_seconds` more (not measured); a second one sends at each S3 rate
for `freshness_seconds`. Then, with a third one sending at the idle rate, S7 kills both drivers
with SIGKILL and restarts them. After each producer the jobs must catch up exactly: every record
once in bronze, every distinct id once in silver. Freshness and files per micro-batch come from
the Delta logs. F7 (Spark's floor under S7, bench/scenarios/floor.py) then builds the tables' states
in a fresh driver and makes its first writes, and restarts the least queries as S7 restarts ours
(bench/scenarios/floor_restart.py); S5 runs OPTIMIZE (the maintenance job) on both tables.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from bench.context import BenchContext
from bench.deltalog import DeltaLog
from bench.freshness import bronze_latencies, p99_by_slice, percentiles, silver_latencies
from bench.harness import BenchError, Proc, say, wait_for
from bench.job_phases import batch_stats, read_events
from bench.scenarios import floor
from bench.scenarios.floor_restart import restart_streams
from bench.scenarios.live_traffic import LiveTraffic
from bench.scenarios.restart import kill_and_restart
from bench.scenarios.small_files import small_files

LAKE = "always_on"
STREAMING_JOB = "bench/scenarios/streaming_job.py"
SLICE_S = 30.0  # S3 and F3 print each phase's p99 per this many seconds of it, to show the drivers warming up


class LivePair:
    """The running bronze and silver jobs of the session, or both layers in one driver (`one_driver`:
    kafka_to_silver); replaced by S7's restart."""

    def __init__(self, ctx: BenchContext, topic: str, one_driver: bool = False):
        sizes = ctx.sizes
        self.ctx = ctx
        self.one_driver = one_driver
        self.mode = "one driver" if one_driver else "two drivers"
        self.overrides = ctx.overrides(LAKE, topic)
        self.bronze_args = ("--topics", "user_events", "--trigger", "processing-time", "--processing-time",
                            sizes.trigger, "--max-offsets-per-trigger", str(sizes.stream_max_offsets))
        # maxFilesPerTrigger stays the configured one: bronze writes a file or so per second here.
        self.silver_args = ("--tables", "user_events", "--trigger", "processing-time", "--processing-time",
                            sizes.trigger)
        self.bronze_log = DeltaLog(ctx.table_path(LAKE, "bronze", "user_events"))
        self.silver_log = DeltaLog(ctx.table_path(LAKE, "silver", "user_events"))
        self.starts = 0
        self.events: dict[str, Path] = {}  # bronze, silver -> their latest start's events (streaming_job.py)
        self.pipeline: Proc = None
        self.bronze: Proc = None
        self.silver: Proc = None

    def start(self) -> None:
        """Starts both jobs; on the first start, silver only once bronze has created its table.

        Both jobs create bronze.user_events when it is missing, and two first CREATE TABLEs on one
        path conflict (Delta's ProtocolChangedException), so the very first start is staggered.
        """
        self.starts += 1
        suffix = "" if self.starts == 1 else f"-restart{self.starts - 1}"
        if self.one_driver:  # kafka_to_silver: bronze's flags and silver's trigger are the same here
            self.pipeline = self._job(f"live-pipeline{suffix}", "kafka_to_silver", self.bronze_args)
            self.events["bronze"] = self.events["silver"] = self.events["kafka_to_silver"]
            return
        self.bronze = self._job(f"live-bronze{suffix}", "kafka_to_bronze", self.bronze_args)
        wait_for(lambda: self.bronze_log.version() >= 0, self.ctx.sizes.restart_timeout_s,
                 "the bronze table to exist", procs=[self.bronze])
        self.silver = self._job(f"live-silver{suffix}", "bronze_to_silver", self.silver_args)
        self.events["bronze"], self.events["silver"] = self.events["kafka_to_bronze"], self.events["bronze_to_silver"]

    def _job(self, name: str, job: str, args: tuple[str, ...]) -> Proc:
        """The job through streaming_job.py, which times its start-up and batches (`events[job]`)."""
        self.events[job] = self.ctx.work / f"{name}.jsonl"
        return self.ctx.job(name, STREAMING_JOB, self.overrides, "--job", job, "--phases-out",
                            str(self.events[job]), *args).start()

    @property
    def procs(self) -> list[Proc]:
        return [p for p in (self.bronze, self.silver, self.pipeline) if p is not None]

    def wait_started(self, timeout_s: float) -> None:
        """Until both queries have created their checkpoints (they are then waiting for data)."""
        marks = [self.ctx.checkpoint_path(LAKE, job, "user_events") + "/metadata"
                 for job in ("kafka_to_bronze", "bronze_to_silver")]
        wait_for(lambda: all(os.path.exists(m) for m in marks), timeout_s, "the always-on queries to start",
                 procs=self.procs)

    def progress(self) -> str:
        return f"bronze {self.bronze_log.rows():,} rows, silver {self.silver_log.rows():,} rows"

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()


def freshness_rates(ctx: BenchContext) -> tuple[list[float], float, str]:
    """The S3 rates: the fixed ones, plus `max_rate_share` of S1's measured rate (or of the default)."""
    sizes = ctx.sizes
    bronze = ctx.shared.get("bronze_catchup")
    measured = bronze.get("events_per_s") if isinstance(bronze, dict) else None
    maximum, source = (measured, "S1 bronze catch-up") if measured else (sizes.default_max_rate, "default")
    share_rate = round(sizes.max_rate_share * maximum)
    return [*sizes.freshness_rates, float(share_rate)], maximum, source


def run(ctx: BenchContext, wanted: list[str]) -> None:
    sizes = ctx.sizes
    topic = ctx.create_topic("live", sizes.partitions)
    rates, maximum, source = freshness_rates(ctx)
    phases = [(rate, sizes.freshness_seconds) for rate in rates] if {"S3", "S5"} & set(wanted) else []
    pair = LivePair(ctx, topic, one_driver=sizes.freshness_one_driver)
    freshness_mode = pair.mode  # S7 goes on in one driver after the two jobs: S3 ran in this mode
    say(f"starting the always-on bronze and silver queries in {pair.mode} (trigger {sizes.trigger}) on {topic}")
    pair.start()
    live = LiveTraffic(ctx, topic)
    try:
        pair.wait_started(sizes.restart_timeout_s)
        live.start("warmup", [], sizes.idle_rate)
        _warm_up(pair, sizes.warmup_seconds, sizes.restart_timeout_s)
        live.stop()
        if phases:
            say("producing " + ", then ".join(f"{rate:,.0f}/s for {seconds:.0f}s" for rate, seconds in phases))
            live.start("phases", phases, 0)
            wait_phases(pair, live.current, sum(seconds for _, seconds in phases))
            live.stop()  # it has finished its phases: this collects its report
        live.wait_caught_up(pair, sizes.job_timeout_s)
        # Before S7's restarts: the events of the drivers running the bronze and the silver queries.
        phase_events = [event for path in {pair.events["bronze"], pair.events["silver"]} for event in read_events(path)]
        if "S7" in wanted:
            if not pair.one_driver:
                live.start("restart", [], sizes.idle_rate)
                ctx.results.put("S7", **kill_and_restart(ctx, pair))
                live.stop()
                live.wait_caught_up(pair, sizes.job_timeout_s)
                pair.stop()
                say("S7: the same queries in one driver (kafka_to_silver), on the same checkpoints")
                pair = LivePair(ctx, topic, one_driver=True)
                pair.start()
            live.start("restart-one-driver", [], sizes.idle_rate)
            ctx.results.put("S7", **kill_and_restart(ctx, pair, "one_driver_"))
            live.stop()
            live.wait_caught_up(pair, sizes.job_timeout_s)
    finally:
        live.stop()
        pair.stop()
    if "S3" in wanted:
        ctx.results.put("S3", **_freshness(pair, freshness_mode, live.reports["phases"], rates, maximum, source,
                                           sizes, phase_events))
    if "F7" in wanted:  # before S5's OPTIMIZE: the tables' logs as S7's restarts found them
        ctx.results.put("F7", **floor.restart_states(ctx, LAKE))
        ctx.results.put("F7", **restart_streams(ctx, LAKE))
    if "S5" in wanted:
        ctx.results.put("S5", **small_files(ctx, LAKE, pair.overrides))


def _warm_up(pair: LivePair, seconds: float, timeout_s: float) -> None:
    """Until both jobs have committed batches of the idle traffic for `seconds` (JIT, caches, state)."""
    say(f"warming up: idle traffic until both jobs commit, then {seconds:.0f}s more")
    wait_for(lambda: pair.bronze_log.version() >= 1 and pair.silver_log.version() >= 1, timeout_s,
             "the first commits of both always-on jobs", every_s=0.5, procs=pair.procs)
    time.sleep(seconds)


def wait_phases(pair, producer: Proc, seconds: float) -> None:
    """Until the phases' producer exits, printing progress; the jobs must stay up meanwhile. `pair`: a
    LivePair, or anything with its `procs` and `progress()`."""
    deadline = time.monotonic() + seconds + 60
    while producer.running and time.monotonic() < deadline:
        time.sleep(min(10.0, max(seconds / 4, 0.5)))
        for proc in pair.procs:
            if not proc.running:
                raise BenchError(f"{proc.name} exited during the freshness phases:\n{proc.tail()}")
        say(f"  live jobs: {pair.progress()}")


def _freshness(pair: LivePair, mode: str, report: dict, rates: list[float], maximum: float, source: str, sizes,
               events: list[dict]) -> dict:
    """S3's figures: freshness_phases on the always-on tables. `mode`: the drivers S3 ran in."""
    phases = freshness_phases(str(pair.bronze_log.folder.parent), str(pair.silver_log.folder.parent), report,
                              maximum, events)
    return {"phases": phases, "mode": mode, "max_rate": maximum, "max_rate_source": source,
            "trigger": sizes.trigger, "warmup_s": sizes.warmup_seconds, "stream_max_offsets": sizes.stream_max_offsets,
            "silver_max_files": pair.ctx.cfg.streaming.silver_max_files_per_trigger}


def freshness_phases(bronze_path: str, silver_path: str, report: dict, maximum: float, events: list[dict]) -> list:
    """Freshness per phase of the producer's `report`, and what it is made of: the micro-batches of each
    layer that committed the phase's rows, those ending from the phase's start to its end plus the
    table's slowest freshness (a record waits for the next trigger, then for its batch to commit; silver's
    wait starts at bronze's commit). `events`: the drivers' (bench.stream_events), of the queries named
    bronze.* and silver.*; `maximum`: the rate the phases' rates are shares of."""
    bronze = bronze_latencies(bronze_path)
    latencies = {"bronze": bronze, "silver": silver_latencies(silver_path, bronze)}
    phases = []
    for phase in report["phases"]:
        window = (phase["start_ms"], phase["end_ms"])
        latency = {table: percentiles(rows, *window) for table, rows in latencies.items()}
        phases.append({
            "rate": phase["rate"],
            "achieved_rate": phase["records"] / ((window[1] - window[0]) / 1000),
            "seconds": (window[1] - window[0]) / 1000,
            "share_of_max": phase["rate"] / maximum,
            **latency,
            "p99_by_slice": {table: p99_by_slice(rows, *window, SLICE_S) for table, rows in latencies.items()},
            "batches": {table: batch_stats(events, f"{table}.", window[0] / 1000,
                                           window[1] / 1000 + (latency[table]["max_s"] or 0.0))
                        for table in latency},
        })
        say(f"freshness at {phase['rate']:,.0f}/s: bronze p50 {phases[-1]['bronze']['p50_s']:.2f}s "
            f"p99 {phases[-1]['bronze']['p99_s']:.2f}s, silver p50 {phases[-1]['silver']['p50_s']:.2f}s "
            f"p99 {phases[-1]['silver']['p99_s']:.2f}s")
        for table, slices in phases[-1]["p99_by_slice"].items():
            print(f"    {table} p99 per {SLICE_S:.0f}s of the phase: "
                  + ", ".join("-" if p99 is None else f"{p99:.2f}s" for p99 in slices))
        for table, stats in phases[-1]["batches"].items():
            if stats["batches"]:
                every = "" if stats["every_p50_s"] is None else f", one every {stats['every_p50_s']:.2f}s (p50)"
                print(f"    {table} micro-batches: {stats['batches']}, each {stats['p50_s']:.2f}s p50, "
                      f"{stats['p99_s']:.2f}s p99, {stats['max_s']:.2f}s max (Spark's addBatch "
                      f"{stats['add_batch_p50_s']:.2f}s p50){every}")
    return phases
