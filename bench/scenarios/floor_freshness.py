"""F3: Spark's floor under S3's freshness, at S3's rates and trigger, on a topic of its own.

Two floor drivers run as S3's two jobs do, each in its own spark-submit (floor_job.py): stream-bronze
(Kafka -> Delta append) and stream-silver (bronze's table -> silver's parse, one row per event_id within
the micro-batch -> Delta insert-only MERGE by event_id: silver's dedup against the rows it holds, without
the contract, quarantine or quality row), with S3's processing-time trigger and bronze's
maxOffsetsPerTrigger.
The traffic is S3's: the idle rate until both have committed, `warmup_seconds` more, then each rate
for `freshness_seconds`. Afterwards bronze must hold every record and silver each distinct id once, and
freshness comes from their Delta logs and micro-batches exactly as S3's (always_on.freshness_phases).
"""
from __future__ import annotations

import time

from bench.checks import distinct_values
from bench.context import BenchContext
from bench.deltalog import DeltaLog
from bench.harness import BenchError, Proc, say, wait_for
from bench.job_phases import read_events
from bench.scenarios.always_on import freshness_phases, freshness_rates, wait_phases
from bench.scenarios.floor import JOB, LAKE
from bench.scenarios.live_traffic import LiveTraffic


class FloorStreams:
    """The two floor drivers and their tables."""

    def __init__(self, ctx: BenchContext):
        self.ctx = ctx
        self.paths = {layer: ctx.table_path(LAKE, layer, "live_user_events") for layer in ("bronze", "silver")}
        self.bronze_log, self.silver_log = DeltaLog(self.paths["bronze"]), DeltaLog(self.paths["silver"])
        self.procs: list[Proc] = []
        self.events = []

    def start(self, layer: str, *args: str) -> None:
        ctx = self.ctx
        self.events.append(ctx.work / f"F3-{layer}.jsonl")
        self.procs.append(ctx.job(
            f"F3-{layer}", JOB, ctx.overrides(LAKE), "--work", f"stream-{layer}", "--table", self.paths[layer],
            "--checkpoint", ctx.checkpoint_path(LAKE, "F3", layer), "--trigger", ctx.sizes.trigger,
            "--phases-out", str(self.events[-1]), "--out", str(ctx.work / f"F3-{layer}.json"), *args).start())

    def progress(self) -> str:
        return f"F3 bronze {self.bronze_log.rows():,} rows, silver {self.silver_log.rows():,} rows"

    def wait_caught_up(self, records: int, distinct: int, timeout_s: float) -> int:
        """Until bronze holds exactly the records sent and silver each distinct id once; returns silver's rows."""
        say(f"F3: {records:,} records sent; waiting for both streams to catch up")
        wait_for(lambda: self.bronze_log.rows() >= records and self.silver_log.rows() >= distinct, timeout_s,
                 "F3's streams to catch up", every_s=0.5, procs=self.procs)
        bronze, silver = self.bronze_log.rows(), self.silver_log.rows()
        ids = distinct_values(self.paths["silver"], "event_id")
        if bronze != records or not silver == ids == distinct:
            raise BenchError(f"F3's bronze holds {bronze:,} rows ({records:,} records sent), its silver "
                             f"{silver:,} rows with {ids:,} distinct ids ({distinct:,} sent)")
        return silver

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()


def run(ctx: BenchContext, wanted: list[str]) -> None:
    sizes = ctx.sizes
    topic = ctx.create_topic("floor-live", sizes.partitions)
    rates, maximum, source = freshness_rates(ctx)
    phases = [(rate, sizes.freshness_seconds) for rate in rates]
    streams = FloorStreams(ctx)
    live = LiveTraffic(ctx, topic)
    say(f"F3: Spark's floor under S3, two streams (trigger {sizes.trigger}) on {topic}")
    try:
        live.start("warmup", [], sizes.idle_rate)
        streams.start("bronze", "--topic", topic, "--max-offsets", str(sizes.stream_max_offsets))
        wait_for(lambda: streams.bronze_log.version() >= 0, sizes.restart_timeout_s, "F3's bronze table to exist",
                 procs=streams.procs)
        streams.start("silver", "--bronze", streams.paths["bronze"])
        wait_for(lambda: streams.bronze_log.version() >= 1 and streams.silver_log.version() >= 1,
                 sizes.restart_timeout_s, "the first commits of both F3 streams", every_s=0.5, procs=streams.procs)
        time.sleep(sizes.warmup_seconds)
        live.stop()
        say("F3: producing " + ", then ".join(f"{rate:,.0f}/s for {seconds:.0f}s" for rate, seconds in phases))
        live.start("phases", phases, 0)
        wait_phases(streams, live.current, sum(seconds for _, seconds in phases))
        live.stop()
        records = sum(report["records"] for report in live.reports.values())
        distinct = sum(report["distinct"] for report in live.reports.values())
        silver_rows = streams.wait_caught_up(records, distinct, sizes.job_timeout_s)
    finally:
        live.stop()
        streams.stop()
    events = [event for path in streams.events for event in read_events(path)]
    ctx.results.put("F3", phases=freshness_phases(streams.paths["bronze"], streams.paths["silver"],
                                                  live.reports["phases"], maximum, events),
                    mode="two drivers", max_rate=maximum, max_rate_source=source, trigger=sizes.trigger,
                    records=records, distinct=distinct, silver_rows=silver_rows)
