"""One benchmark run: its private names, config overrides, work folder, results and clean-up.

Everything a run creates is private to it: Kafka topics `bench_<run>_*`, a Postgres schema
`bench_<run>`, and a lake, checkpoints and logs under the work folder. The jobs get the same
names through `--set` overrides, so they never touch the shared defaults.
"""
from __future__ import annotations

import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

from bench.cpu_profile import agent_library, agent_option
from bench.harness import ROOT, BenchError, MemorySampler, Proc, python_module, say, spark_submit
from bench.profile import event_log_overrides
from bench.sizes import Sizes

CONTRACTS = ("user_events", "transaction_events", "system_metrics")


@dataclass
class Results:
    """Figures by scenario or baseline id (S1..S10, B1, B2, C0, C1)."""

    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def put(self, key: str, **figures: Any) -> None:
        self.figures.setdefault(key, {}).update(figures)

    def get(self, key: str, name: str, default: Any = None) -> Any:
        return self.figures.get(key, {}).get(name, default)


class BenchContext:
    """Names, config and shared state of one run."""

    def __init__(self, sizes: Sizes, quick: bool, work_dir: Optional[Path] = None, keep: bool = False,
                 event_logs: bool = False, job_sets: Sequence[str] = (), cpu_profile_s: Optional[float] = None):
        from lakehouse.config import load_config

        self.sizes = sizes
        self.quick = quick
        self.keep = keep
        self.run_id = time.strftime("%Y%m%d_%H%M%S") + f"_{random.getrandbits(16):04x}"
        self.salt = random.getrandbits(31)
        self.work = Path(work_dir or ROOT / ".local" / "bench" / self.run_id).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.base_overrides = [
            f"lake.root={self.work}/lake",
            f"lake.checkpoint_root={self.work}/checkpoints",
            *(f"streaming.topics.{c}=bench_{self.run_id}_unused_{c}" for c in CONTRACTS),
        ]
        self.cfg = load_config("local", ROOT / "conf", self.base_overrides)
        self.event_logs = self.log("events").with_suffix("") if event_logs else None
        self.job_overrides = (*(event_log_overrides(self.event_logs) if self.event_logs else ()), *job_sets)
        self.cpu_profile_s = cpu_profile_s
        self.cpu_profiles = self.log("cpu").with_suffix("") if cpu_profile_s else None
        self.profiler = agent_library() if cpu_profile_s else None
        self.results = Results()
        self.shared: dict[str, Any] = {}   # state handed from one scenario to another
        self.step_seconds: dict[str, dict] = {}
        self.topics: list[str] = []
        self.schemas: list[str] = []

    def once(self, key: str, compute):
        """`compute()` the first time, its result (or its exception) every later time."""
        if key not in self.shared:
            try:
                self.shared[key] = compute()
            except Exception as exc:
                self.shared[key] = exc
                raise
        value = self.shared[key]
        if isinstance(value, Exception):
            raise BenchError(f"{key} failed earlier in this run: {value}") from value
        return value

    # Names and paths.
    def topic(self, purpose: str) -> str:
        return f"bench_{self.run_id}_{purpose}"

    def lake(self, name: str) -> Path:
        """A private lake root for one scenario: <work>/<name>/lake and <work>/<name>/checkpoints."""
        return self.work / name

    def overrides(self, lake: str, topic: Optional[str] = None, extra: tuple[str, ...] = ()) -> list[str]:
        """`--set` values pointing a job at the lake folder `lake` and, for user_events, at `topic`."""
        root = self.lake(lake)
        values = [*self.base_overrides, f"lake.root={root}/lake", f"lake.checkpoint_root={root}/checkpoints"]
        if topic:
            values.append(f"streaming.topics.user_events={topic}")
        return [*values, *self.job_overrides, *extra]

    def table_path(self, lake: str, layer: str, name: str) -> str:
        return f"{self.lake(lake)}/lake/{layer}/{name}"

    def checkpoint_path(self, lake: str, job: str, name: str) -> str:
        return f"{self.lake(lake)}/checkpoints/{job}/{name}"

    def log(self, name: str) -> Path:
        """Logs stay after clean-up, under .local/bench/logs/<run id>/."""
        return ROOT / ".local" / "bench" / "logs" / self.run_id / f"{name}.log"

    # Processes.
    def job(self, name: str, script: str, overrides: list[str], *args: str) -> Proc:
        """A spark-submit process of one of our jobs (not started)."""
        cfg = self.cfg
        if not self.sizes.class_data_sharing:
            cfg = replace(cfg, spark=replace(cfg.spark, cds_dir=None))
        java_options = self.sizes.jvm_options.split()
        if self.cpu_profiles:
            java_options.append(agent_option(self.profiler, self.cpu_profiles, name, self.cpu_profile_s))
        argv = spark_submit(cfg, script, overrides, *args, java_options=java_options)
        return Proc(name, argv, self.log(name))

    def python(self, name: str, module: str, *args: str, overrides: tuple[str, ...] = (),
               sampler: Optional[MemorySampler] = None, with_config: bool = True) -> Proc:
        """A Python process of the harness (producers, baselines), with config overrides if it takes them."""
        sets = [f"--set={o}" for o in [*self.base_overrides, *overrides]] if with_config else []
        return Proc(name, python_module(module, *args, *sets), self.log(name), sampler=sampler)

    # Kafka topics and Postgres schemas, deleted by cleanup().
    def create_topic(self, purpose: str, partitions: int) -> str:
        from confluent_kafka.admin import AdminClient, NewTopic

        from lakehouse.kafka.client import client_config

        name = self.topic(purpose)
        admin = AdminClient(client_config(self.cfg))
        admin.create_topics([NewTopic(name, partitions, 1)])[name].result(timeout=30)
        self.topics.append(name)
        return name

    def create_schema(self) -> str:
        from psycopg import sql

        from lakehouse.sources.postgres import connect

        name = f"bench_{self.run_id}"
        with connect(self.cfg.postgres, "lakehouse-bench", read_only=False) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        self.schemas.append(name)
        return name

    def cleanup(self) -> None:
        """Deletes the run's topics and schemas, and its work folder unless asked to keep it."""
        if self.topics:
            from confluent_kafka.admin import AdminClient

            from lakehouse.kafka.client import client_config

            admin = AdminClient(client_config(self.cfg))
            for name, future in admin.delete_topics(self.topics).items():
                try:
                    future.result(timeout=30)
                except Exception as exc:  # report and go on: the other resources still need cleaning
                    say(f"could not delete topic {name}: {exc}")
            self.topics = []
        if self.schemas:
            from psycopg import sql

            from lakehouse.sources.postgres import connect

            with connect(self.cfg.postgres, "lakehouse-bench", read_only=False) as conn:
                for name in self.schemas:
                    conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
            self.schemas = []
        if self.keep:
            say(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)
