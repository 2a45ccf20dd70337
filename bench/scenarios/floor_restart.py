"""F7's streams: Spark's floor under S7 restarted as S7 restarts our queries in one driver.

floor_job.py's `stream-pipeline` runs S7's two queries in one driver with the least work that still
commits each batch exactly once (its docstring): Kafka -> a bronze table of its own, and on it an
insert-only MERGE by event_id into a copy of silver's grown table (as F7's first MERGE: the data files
linked, the log copied). With its own traffic at the idle rate, on a topic of its own and ids of its
own, it is killed with SIGKILL right after a commit of each table and restarted
(bench.scenarios.restart, as S7), and timed from the kill to each table's first new commit, phase by
phase (silver's handler too, up to its first MERGE). Afterwards bronze must hold every record sent and
the copy each new distinct id once.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from bench.checks import distinct_values
from bench.context import BenchContext
from bench.deltalog import DeltaLog
from bench.harness import BenchError, Proc, say, wait_for
from bench.job_phases import read_events
from bench.scenarios.floor import JOB, LAKE, grown_copy
from bench.scenarios.live_traffic import LiveTraffic
from bench.scenarios.restart import kill_and_restart

SALT_OFFSET = 2  # the always-on traffic's ids are in the copied table: these must differ from them


class FloorPipeline:
    """The floor's one driver, as S7's restart sees a pair (always_on.LivePair): its tables' logs, its
    process, `start()` and each start's events."""

    mode = "one driver"

    def __init__(self, ctx: BenchContext, topic: str, silver: Path):
        self.ctx = ctx
        self.topic = topic
        self.paths = {"bronze": ctx.table_path(LAKE, "bronze", "restart_user_events"), "silver": str(silver)}
        self.bronze_log, self.silver_log = DeltaLog(self.paths["bronze"]), DeltaLog(self.paths["silver"])
        self.proc: Proc = None
        self.starts = 0
        self.events: dict[str, Path] = {}

    def start(self) -> None:
        ctx = self.ctx
        name = "F7-streams" + (f"-restart{self.starts}" if self.starts else "")
        self.starts += 1
        events = ctx.work / f"{name}.jsonl"
        self.events = {"bronze": events, "silver": events}
        self.proc = ctx.job(
            name, JOB, ctx.overrides(LAKE), "--work", "stream-pipeline", "--topic", self.topic,
            "--table", self.paths["bronze"], "--merge-into", self.paths["silver"],
            "--checkpoint", ctx.checkpoint_path(LAKE, "F7", "streams"), "--trigger", ctx.sizes.trigger,
            "--max-offsets", str(ctx.sizes.stream_max_offsets), "--phases-out", str(events),
            "--out", str(ctx.work / f"{name}.json")).start()

    @property
    def procs(self) -> list[Proc]:
        return [self.proc] if self.proc is not None else []

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


def restart_streams(ctx: BenchContext, lake: str) -> dict:
    """The F7 streams' figures (`streams_bronze_restart_s`, `streams_silver_restart_s`, each one's phases)
    on a copy of `lake`'s silver user_events."""
    sizes = ctx.sizes
    silver = grown_copy(ctx.table_path(lake, "silver", "user_events"), ctx.lake(LAKE) / "restart_streams_silver")
    held = DeltaLog(str(silver)).rows()
    topic = ctx.create_topic("floor-restart", sizes.partitions)
    pipeline = FloorPipeline(ctx, topic, silver)
    live = LiveTraffic(ctx, topic, salt_offset=SALT_OFFSET)
    say(f"F7: Spark's floor under S7 as streams in one driver (trigger {sizes.trigger}) on {topic}, "
        f"MERGEing into a copy of silver's {held:,} rows")
    try:
        live.start("floor-restart", [], sizes.idle_rate)
        pipeline.start()
        figures = kill_and_restart(ctx, pipeline, "streams_", figure="F7")
        handlers = wait_for(lambda: first_handlers(read_events(pipeline.events["silver"])), sizes.restart_timeout_s,
                            "the restarted F7 silver's first MERGE to be recorded", procs=pipeline.procs)
        for handler in handlers:
            say(f"F7: silver's batch {handler['batch_id']} in its handler {handler['total_s']:.2f}s: "
                + ", ".join(f"{name} {seconds:.2f}s" for name, seconds in handler["phases"].items()))
        figures["streams_silver_handlers"] = handlers
        live.stop()
        report = live.reports["floor-restart"]
        say(f"F7: {report['records']:,} records sent; waiting for the floor's streams to catch up")
        wait_for(lambda: pipeline.bronze_log.rows() >= report["records"]
                 and pipeline.silver_log.rows() >= held + report["distinct"], sizes.job_timeout_s,
                 "F7's streams to catch up", every_s=0.5, procs=pipeline.procs)
    finally:
        live.stop()
        pipeline.stop()
    bronze, rows, ids = pipeline.bronze_log.rows(), pipeline.silver_log.rows(), distinct_values(str(silver), "event_id")
    if bronze != report["records"] or not rows == ids == held + report["distinct"]:
        raise BenchError(f"F7's streams: bronze holds {bronze:,} rows ({report['records']:,} records sent), the "
                         f"silver copy {rows:,} rows with {ids:,} distinct ids ({held:,} + {report['distinct']:,})")
    return {**figures, "streams_silver_held": held, "streams_records": report["records"]}


def first_handlers(events: list[dict]) -> Optional[list[dict]]:
    """The restarted driver's silver handler records up to its first MERGE (None until that one is written)."""
    handlers = []
    for record in (e for e in events if e["event"] == "record" and e["label"] == "silver.floor"):
        handlers.append({"batch_id": record["batch_id"], "total_s": record["total_s"], "phases": record["phases"]})
        if "merge" in record["phases"]:
            return handlers
    return None
