"""Live traffic for the always-on scenarios (S3, S5, S7) and their floors (F3, F7): fixed-rate producer
processes (bench.events rate) on a topic, one at a time, and the check that two jobs caught up with it."""
from __future__ import annotations

import json
from typing import Optional

from bench.context import BenchContext
from bench.harness import BenchError, Proc, say, wait_for

INDEXES_PER_PRODUCER = 10**10  # producer n sends event indexes from n * 10**10: ids never collide


class LiveTraffic:
    """Fixed-rate producer processes, one at a time, each with its own range of event indexes; `salt_offset`
    apart from the run's salt (a traffic whose ids must not meet another's takes its own)."""

    def __init__(self, ctx: BenchContext, topic: str, salt_offset: int = 1):
        self.ctx = ctx
        self.topic = topic
        self.salt = ctx.salt + salt_offset
        self.current: Optional[Proc] = None
        self.reports: dict[str, dict] = {}

    def start(self, name: str, phases: list, idle_rate: float) -> None:
        report = self.ctx.work / f"live-{name}.json"
        first = len(self.reports) * INDEXES_PER_PRODUCER
        self.current = self.ctx.python(
            f"live-{name}", "bench.events", "rate", "--topic", self.topic, "--salt", str(self.salt),
            "--first", str(first), "--phases", ",".join(f"{r}:{s}" for r, s in phases), "--idle-rate", str(idle_rate),
            "--report", str(report)).start()
        self.reports[name] = {}
        self._name, self._report = name, report

    def stop(self) -> None:
        """Stops the current producer (it flushes and writes its report)."""
        if self.current is not None:
            self.current.stop()
            self.current.wait(60)
            self.reports[self._name] = json.loads(self._report.read_text())
            self.current = None

    def wait_caught_up(self, pair, timeout_s: float) -> None:
        """Until `pair`'s (an always_on.LivePair) bronze holds every record sent so far and its silver every
        distinct id: exactly those counts."""
        records = sum(r["records"] for r in self.reports.values())
        distinct = sum(r["distinct"] for r in self.reports.values())
        say(f"{records:,} records sent so far; waiting for both jobs to catch up")
        wait_for(lambda: pair.bronze_log.rows() >= records and pair.silver_log.rows() >= distinct,
                 timeout_s, "the always-on jobs to catch up", every_s=0.5, procs=pair.procs)
        bronze, silver = pair.bronze_log.rows(), pair.silver_log.rows()
        if bronze != records or silver != distinct:
            raise BenchError(f"after catching up bronze holds {bronze:,} rows ({records:,} records sent), "
                             f"silver {silver:,} ({distinct:,} distinct ids sent)")
        say(f"caught up: bronze {bronze:,} rows, silver {silver:,} rows (each record and id exactly once)")
