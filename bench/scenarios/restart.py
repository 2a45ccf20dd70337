"""S7: a driver killed with SIGKILL, restarted at once; seconds until its first committed batch.

Both always-on drivers (bronze and silver: a host that died) are killed with their whole process
group while records keep arriving, then started again with the same command. The time is from
the kill to the timestamp of the first new commit in each table: JVM start-up, checkpoint
recovery, the re-run of the batch the kill interrupted, and its commit.
"""
from __future__ import annotations

import signal
import time

from bench.harness import say, wait_for


def kill_and_restart(ctx, pair) -> dict:
    """Kills and restarts `pair` (an always_on.LivePair); returns the S7 figures."""
    sizes = ctx.sizes
    logs = {"bronze": pair.bronze_log, "silver": pair.silver_log}
    for name, log in logs.items():  # both must be committing batches when the kill comes
        before = log.version()
        wait_for(lambda log=log, before=before: log.version() > before, sizes.restart_timeout_s,
                 f"a {name} commit before the kill", every_s=0.5, procs=pair.procs)
    say("S7: SIGKILL to both drivers' process groups, then restarting them")
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
        figures[f"{name}_restart_s"] = first.timestamp_ms / 1000 - killed_at
        say(f"S7: {name} committed its first batch {figures[f'{name}_restart_s']:.1f}s after the kill")
    return figures
