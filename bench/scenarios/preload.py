"""The backlog of S1, S2, B1 and B2: `events` user_events records in one private topic.

Several producer processes send disjoint index ranges in parallel (acks=all, idempotent), so
five million records take well under a minute. Every catch-up scenario reads the same records.
"""
from __future__ import annotations

import json
import time

from bench.context import BenchContext
from bench.harness import MemorySampler, say


def loaded_topic(ctx: BenchContext) -> dict:
    """The pre-loaded topic's facts (name, records, distinct ids, bytes); loads it on first use."""
    return ctx.once("loaded", lambda: _preload(ctx))


def _preload(ctx: BenchContext) -> dict:
    sizes = ctx.sizes
    topic = ctx.create_topic("backlog", sizes.partitions)
    per_process = -(-sizes.events // sizes.preload_processes)
    say(f"pre-loading {sizes.events:,} events into {topic} ({sizes.partitions} partitions) "
        f"with {sizes.preload_processes} producer process(es)")
    sampler = MemorySampler()
    procs = []
    started = time.monotonic()
    for number in range(sizes.preload_processes):
        count = min(per_process, sizes.events - number * per_process)
        report = ctx.work / f"preload-{number}.json"
        procs.append(ctx.python(
            f"preload-{number}", "bench.events", "preload", "--topic", topic, "--salt", str(ctx.salt),
            "--first", str(number * per_process), "--count", str(count), "--report", str(report),
            sampler=sampler))
        procs[-1].start()
    for proc in procs:
        proc.wait(ctx.sizes.job_timeout_s)
    seconds = time.monotonic() - started
    sampler.close()
    reports = [json.loads((ctx.work / f"preload-{n}.json").read_text()) for n in range(len(procs))]
    loaded = {
        "topic": topic,
        "records": sum(r["records"] for r in reports),
        "distinct": sum(r["distinct"] for r in reports),
        "payload_bytes": sum(r["payload_bytes"] for r in reports),
        "seconds": seconds,
    }
    loaded["avg_event_bytes"] = loaded["payload_bytes"] / loaded["records"]
    say(f"pre-loaded {loaded['records']:,} records ({loaded['distinct']:,} distinct event ids, "
        f"{loaded['avg_event_bytes']:.0f} bytes each) in {seconds:.1f}s ({loaded['records'] / seconds:,.0f}/s)")
    return loaded
