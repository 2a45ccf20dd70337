"""S7: a driver killed with SIGKILL, restarted at once; seconds until its first committed batch.

The always-on drivers (bronze and silver: a host that died) are killed with their whole process
group while records keep arriving, then started again with the same command. The time is from
the kill to the timestamp of the first new commit in each table: JVM start-up, checkpoint
recovery, the re-run of the batch the kill interrupted, and its commit, phase by phase
(streaming_job.py's events). Run for the two jobs, then for the same queries in one driver
(kafka_to_silver, on the same checkpoints); F7 restarts its floor's queries the same way
(bench/scenarios/floor_restart.py).
"""
from __future__ import annotations

import signal
import time

from bench.harness import say, wait_for
from bench.job_phases import batches, print_phases, read_events, startup_phases


def kill_and_restart(ctx, pair, prefix: str = "", figure: str = "S7") -> dict:
    """Kills and restarts `pair` (an always_on.LivePair, or floor_restart.FloorPipeline); returns the
    `figure`'s figures, their names prefixed."""
    sizes = ctx.sizes
    logs = {"bronze": pair.bronze_log, "silver": pair.silver_log}
    for name, log in logs.items():  # both must be committing batches when the kill comes
        before = log.version()
        wait_for(lambda log=log, before=before: log.version() > before, sizes.restart_timeout_s,
                 f"a {name} commit before the kill", every_s=0.5, procs=pair.procs)
    say(f"{figure}: SIGKILL to each driver's process group ({pair.mode}), then restarting")
    killed_at = time.time()
    for proc in pair.procs:
        proc.kill(signal.SIGKILL)
    for proc in pair.procs:
        proc.popen.wait()
    last = {name: log.version() for name, log in logs.items()}
    pair.start()
    figures = {}
    for name, log in logs.items():
        wait_for(lambda log=log, name=name: log.version() > last[name], sizes.restart_timeout_s,
                 f"the restarted {name} job's first commit", every_s=0.1, procs=pair.procs)
        first = next(c for c in log.commits if c.version > last[name])
        figures[f"{prefix}{name}_restart_s"] = first.timestamp_ms / 1000 - killed_at
        say(f"{figure}: {name} committed its first batch {figures[f'{prefix}{name}_restart_s']:.1f}s after the kill "
            f"({pair.mode})")
    for name in ("bronze", "silver"):
        first_commit_at = killed_at + figures[f"{prefix}{name}_restart_s"]
        phases = restart_phases(read_events(pair.events[name]), f"{name}.", killed_at, first_commit_at)
        figures[f"{prefix}{name}_phases"] = phases
        print_phases(f"{figure}: {name} ({pair.mode}), from the kill to its first commit, seconds:", phases)
    return figures


def restart_phases(events: list[dict], query: str, killed_at: float, first_commit_at: float) -> dict[str, float]:
    """Where a restart's time went, in order (they add up to the figure): the start-up
    (bench.job_phases.startup_phases, from the kill), `query_init` (until the first micro-batch's
    trigger), then each micro-batch of the query whose name starts with `query` before the first commit
    (a batch the kill interrupted, re-run: its writes were committed, or an empty one), the wait for
    the next trigger after each, and the committing one up to its commit. With one driver for both
    layers, silver's start-up (`silver ...`) follows bronze's, and both queries start after it."""
    phases, at = startup_phases(events, killed_at, {"start": "", "start silver": "silver "})
    for batch in batches(events, query):
        if batch["began"] >= first_commit_at:
            break
        if "query_init" not in phases:
            phases["query_init"] = batch["began"] - at
        elif batch["began"] > at:  # a processing-time trigger waits for its interval
            phases[f"until batch {batch['batch_id']}'s trigger"] = batch["began"] - at
        ended = min(batch["ended"], first_commit_at)
        kind = "until its commit" if ended == first_commit_at else "nothing new committed"
        phases[f"batch {batch['batch_id']} ({batch['rows']:,} rows, {kind})"] = ended - batch["began"]
        at = ended
    if at < first_commit_at:
        phases["until_commit"] = first_commit_at - at
    return phases
