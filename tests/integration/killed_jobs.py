"""Streaming jobs as spark-submit processes, SIGKILLed inside chosen windows of their micro-batches.

A Hunt watches a job's checkpoint and Delta logs (tests.integration.kill_windows), kills the job as soon
as the next window it still owes opens, and restarts it. Once the process is dead, the files tell where
each of its queries was left (a landing); a kill that missed its window is tried again on a later batch.
A landing is confirmed once a later run commits the batch, if that run committed a write the killed
one still owed. When every window has its quota of kills, the job runs once more with the available-now
trigger, to the end.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from tests.conftest import PROJECT_ROOT
from tests.integration.kill_windows import QueryFiles, Window

SPARK_SUBMIT = str(Path(sys.executable).parent / "spark-submit")
SCRIPTS = {"bronze": "jobs/streaming/kafka_to_bronze.py", "silver": "jobs/streaming/bronze_to_silver.py"}
# A kill in a window opened by the batch's start waits up to this long, to land anywhere in the batch.
MAX_DELAY_S = 0.25
# A job started this long ago whose queries stay between batches, with nothing more upstream, read everything.
IDLE_S = 90


class Job:
    """One streaming job run again and again as a spark-submit process."""

    def __init__(self, name: str, submit_args: list[str], job_args: list[str], batch_flags: dict[str, list[str]],
                 queries: list[QueryFiles], logs: Path):
        self.name, self.submit_args, self.job_args, self.batch_flags = name, submit_args, job_args, batch_flags
        self.queries, self.logs = queries, logs
        self.process: Optional[subprocess.Popen] = None
        self.starts = 0
        self.started_at = 0.0
        self.marks = {}

    def start(self, trigger: str = "processing-time") -> None:
        self.starts += 1
        self.started_at = time.monotonic()
        self.marks = {query.contract: query.mark() for query in self.queries}
        command = [SPARK_SUBMIT, *self.submit_args, str(PROJECT_ROOT / SCRIPTS[self.name]), *self.job_args,
                   "--trigger", trigger, *self.batch_flags[trigger]]
        log = open(self.logs / f"{self.name}-{self.starts}.log", "w")  # noqa: SIM115 - closed by the child's exit
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE__")}
        env.update(PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
        self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check_running(self) -> None:
        if not self.is_running():
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)  # the JVM and the Python driver at once
        self.process.wait()

    def committed_batches(self) -> tuple[int, ...]:
        """Each query's newest committed batch (-1 before the first): how far the job got."""
        return tuple(query.last_committed() for query in self.queries)

    def log_tail(self) -> str:
        return "".join((self.logs / f"{self.name}-{self.starts}.log").read_text().splitlines(True)[-40:])


@dataclass
class Landing:
    """A query of the killed job left inside a window: its files show batch N there, and the run that was
    killed opened the window (planned the batch or committed the write that opens it)."""

    window: Window
    contract: str
    batch: int
    # once the batch is committed: whether a later run committed a write it still owed
    confirmed: Optional[bool] = field(default=None, compare=False)

    @property
    def outcome(self) -> str:
        if self.confirmed is None:
            return ""
        return " (confirmed)" if self.confirmed else " (REFUTED: the restart committed no write still owed)"

    def __str__(self) -> str:
        return f"'{self.window.name}' in {self.contract} batch {self.batch}{self.outcome}"


@dataclass
class Kill:
    number: int
    job: str
    start: int
    at_s: float
    aim: Landing          # the window seen open, the reason for the kill
    landings: list[Landing]
    states: str           # where each query of the job was

    @property
    def landed(self) -> bool:
        return self.aim in self.landings

    def __str__(self) -> str:
        aim = next((landing for landing in self.landings if landing == self.aim), None)
        outcome = f"landed{aim.outcome}" if aim else "MISSED, tried again later"
        others = ", ".join(str(landing) for landing in self.landings if landing != self.aim) or "none"
        return (f"kill {self.number} at {self.at_s:.0f}s: SIGKILL {self.job} (start {self.start}) aiming at "
                f"{self.aim}: {outcome}; also landed in: {others} [{self.states}]")


class Hunt:
    """Kills one job until each window of `quotas` has that many kills landed in it, then finishes it.

    Every kill aims at the first window still owed, in `quotas` order; the other queries of the job count
    too wherever they were left inside a window, but a quota counts kills, not queries. A landing refuted
    by the restart does not count. The hunt gives up, and the job is finished all the same, after
    `max_kills`, or when the job has read everything while it still owes a window.
    """

    def __init__(self, job: Job, quotas: dict[Window, int], max_kills: int, rng: random.Random, kills: list[Kill]):
        self.job, self.quotas, self.max_kills, self.rng, self.kills = job, quotas, max_kills, rng, kills
        self.order = list(quotas)
        # Kills aim at the queries whose batches pass through every window (silver: the one with fraud_review).
        self.aimed = [q for q in job.queries if all(w.applies_to(set(q.logs)) for w in self.order)]
        self.started = time.monotonic()
        self.idle_since: Optional[float] = None
        self.gave_up = False
        self.finishing = False
        self.done = False

    def step(self, may_kill: bool, upstream_done: bool) -> None:
        """One round: kill if an owed window is open (and restart), or, once everything upstream is there,
        start and watch the final run."""
        self.confirm()
        if self.finishing:
            self._watch_final_run()
        elif self.owed() and not self.gave_up:
            self.job.check_running()
            if may_kill:
                self._hunt(upstream_done)
        elif upstream_done:
            if self.job.is_running():  # given up while between batches
                self.job.kill()
            self.job.start("available-now")
            self.finishing = True

    def owed(self) -> list[Window]:
        return [window for window in self.order if self.hits(window) < self.quotas[window]]

    def hits(self, window: Window, confirmed_only: bool = False) -> int:
        """Kills of this job that left some query inside `window` (confirmed, or not refuted yet)."""
        counted = (True,) if confirmed_only else (True, None)
        return sum(any(lan.window == window and lan.confirmed in counted for lan in kill.landings)
                   for kill in self.own_kills())

    def own_kills(self) -> list[Kill]:
        return [kill for kill in self.kills if kill.job == self.job.name]

    def landings(self) -> list[Landing]:
        return [landing for kill in self.own_kills() for landing in kill.landings]

    def confirm(self) -> None:
        for landing in self.landings():
            query = self._query(landing.contract)
            if landing.confirmed is None and query.is_committed(landing.batch):
                written = set(query.written(landing.batch))
                landing.confirmed = bool(landing.window.replayed & written)
                print(f"{self.job.name}: {landing}; the batch's writes: {', '.join(sorted(written)) or 'none'}")

    def _hunt(self, upstream_done: bool) -> None:
        if len(self.own_kills()) >= self.max_kills or (upstream_done and self._read_everything()):
            self.gave_up = True
            print(f"{self.job.name}: gave up after {len(self.own_kills())} kills, still owing "
                  f"{[window.name for window in self.owed()]}")
            return
        window = self.owed()[0]
        for query in self.aimed:
            batch = query.open_window(window, self.job.marks[query.contract])
            if batch is not None:
                self._kill(Landing(window, query.contract, batch))
                return

    def _read_everything(self) -> bool:
        """The aimed queries have stayed between batches for IDLE_S since the job started."""
        if any(query.running_batch() is not None for query in self.aimed):
            self.idle_since = None
            return False
        now = time.monotonic()
        self.idle_since = max(self.idle_since or now, self.job.started_at)
        return now - self.idle_since > IDLE_S

    def _kill(self, aim: Landing) -> None:
        if not aim.window.committed:
            time.sleep(self.rng.uniform(0, MAX_DELAY_S))
        self.job.kill()
        kill = Kill(len(self.kills) + 1, self.job.name, self.job.starts, time.monotonic() - self.started, aim,
                    self._landings(), "; ".join(query.describe() for query in self.job.queries))
        self.kills.append(kill)
        print(kill)
        if self.owed():
            self.job.start()

    def _landings(self) -> list[Landing]:
        """Where the dead job's queries are: each window (they exclude one another) that holds and opened in its run."""
        found = []
        for query in self.job.queries:
            for window in (w for w in self.order if w.applies_to(set(query.logs))):
                batch = query.open_window(window, self.job.marks[query.contract])
                if batch is not None:
                    found.append(Landing(window, query.contract, batch))
        return found

    def _watch_final_run(self) -> None:
        code = self.job.process.poll()
        if code is not None:
            assert code == 0, f"{self.job.name} available-now run failed:\n{self.job.log_tail()}"
            self.done = True

    def _query(self, contract: str) -> QueryFiles:
        return next(query for query in self.job.queries if query.contract == contract)
