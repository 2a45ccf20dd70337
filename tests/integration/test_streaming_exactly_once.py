"""Exactly once through crashes: bronze and silver as spark-submit processes, killed with SIGKILL.

N records (unique ids, plus duplicates, status updates out of order and malformed records) are
produced, half before the jobs start and half while they are being killed. Bronze and silver run
as separate processing-time spark-submit processes; the test kills a driver (SIGKILL to its
process group: JVM and Python) at a random moment after its latest start has committed a new
micro-batch (or after two idle minutes), and restarts it, alternating bronze and silver, six
times. While one bronze process runs, a second instance is started on its checkpoint and must be
refused. Finally bronze and then silver run with the available-now trigger.

Then: bronze holds each Kafka offset exactly once; silver holds exactly the distinct event ids and,
per transaction, the newest version; quarantine holds each malformed record once. 0 lost, 0 duplicated.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lakehouse.generators.publish import publish
from lakehouse.generators.traffic import Traffic, TrafficSpec, generate
from lakehouse.kafka.offsets import topic_offsets
from lakehouse.spark import spark_submit_args
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.lock import CheckpointLockedError
from tests.conftest import PROJECT_ROOT
from tests.integration.streaming_support import bronze_options, stream_config, table

CONTRACTS = ("user_events", "transaction_events")
KILLS = 6
SPARK_SUBMIT = str(Path(sys.executable).parent / "spark-submit")
JOBS = {"bronze": "jobs/streaming/kafka_to_bronze.py", "silver": "jobs/streaming/bronze_to_silver.py"}
# Small micro-batches while the kills happen (each start commits a few), large ones to finish.
BATCH_FLAGS = {
    ("bronze", "processing-time"): ["--max-offsets-per-trigger", "150"],
    ("silver", "processing-time"): ["--max-files-per-trigger", "3"],
    ("bronze", "available-now"): ["--max-offsets-per-trigger", "100000"],
    ("silver", "available-now"): ["--max-files-per-trigger", "1000"],
}


class Job:
    """One streaming job run again and again as a spark-submit process."""

    def __init__(self, name: str, cfg, overrides: list[str], logs: Path):
        self.name, self.cfg, self.overrides, self.logs = name, cfg, overrides, logs
        self.process = None
        self.starts = 0
        self.commits_at_start = 0

    def command(self, trigger: str) -> list[str]:
        return [
            SPARK_SUBMIT, *spark_submit_args(self.cfg), str(PROJECT_ROOT / JOBS[self.name]),
            "--env", "local", *(f"--set={o}" for o in self.overrides),
            "--topics", ",".join(CONTRACTS), "--trigger", trigger, "--processing-time", "1 second",
            *BATCH_FLAGS[self.name, trigger],
        ]

    def start(self, trigger: str = "processing-time") -> subprocess.Popen:
        self.starts += 1
        self.commits_at_start = self.commits()
        log = open(self.logs / f"{self.name}-{self.starts}.log", "w")  # noqa: SIM115 - closed by the child's exit
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE__")}
        env.update(PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
        self.process = subprocess.Popen(self.command(trigger), cwd=PROJECT_ROOT, env=env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        return self.process

    def commits(self) -> int:
        job = "kafka_to_bronze" if self.name == "bronze" else "bronze_to_silver"
        folders = [Path(self.cfg.lake.checkpoint_path(job, c)) / "commits" for c in CONTRACTS]
        return sum(1 for folder in folders if folder.is_dir() for f in folder.iterdir() if f.name.isdigit())

    def wait_for_new_commit(self, patience_s: float = 120) -> bool:
        """True once this start committed a batch; False if it committed none in `patience_s` (caught up)."""
        deadline = time.monotonic() + patience_s
        while self.commits() <= self.commits_at_start:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)
        return True

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)  # the JVM and the Python driver at once
        self.process.wait()

    def run_to_completion(self, timeout_s: float = 420) -> None:
        process = self.start("available-now")
        try:
            assert process.wait(timeout_s) == 0, f"{self.name} available-now run failed:\n{self.log_tail()}"
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def log_tail(self) -> str:
        return "".join((self.logs / f"{self.name}-{self.starts}.log").read_text().splitlines(True)[-40:])


@pytest.mark.slow
def test_sigkilled_drivers_lose_and_duplicate_nothing(spark, tmp_path, new_topic):
    rng = random.Random()
    topics = {contract: new_topic(partitions=3, prefix=contract) for contract in CONTRACTS}
    overrides = [f"lake.root={tmp_path}/lake", f"lake.checkpoint_root={tmp_path}/checkpoints",
                 "spark.shuffle_partitions=2", "spark.driver_memory=1g",
                 *(f"streaming.topics.{c}={t}" for c, t in topics.items())]
    cfg = stream_config(tmp_path, topics, "spark.driver_memory=1g")
    traffic = generate(TrafficSpec(users=100, user_events=1500, transactions=600, system_metrics=0, seed=rng.random()))
    half = len(traffic.records) // 2  # the second half is produced while the jobs are being killed
    produced = publish(cfg, Traffic(traffic.records[:half], traffic.truth)).acknowledged

    (tmp_path / "logs").mkdir()
    jobs = {name: Job(name, cfg, overrides, tmp_path / "logs") for name in ("bronze", "silver")}
    try:
        for job in jobs.values():
            job.start()
        for kill in range(1, KILLS + 1):
            job = jobs["bronze" if kill % 2 else "silver"]
            committed = job.wait_for_new_commit()
            if kill == 3:
                second_instance_is_refused(spark, cfg, job)
                produced += publish(cfg, Traffic(traffic.records[half:], traffic.truth)).acknowledged
            pause = rng.uniform(0, 4)
            time.sleep(pause)
            job.kill()
            moment = f"{pause:.1f}s after a commit" if committed else "while idle (caught up)"
            print(f"kill {kill}: SIGKILL {job.name} (start {job.starts}) {moment}, "
                  f"{job.commits()} batches committed so far")
            if kill < KILLS - 1:
                job.start()
        jobs["bronze"].kill() if jobs["bronze"].process.poll() is None else None
        jobs["bronze"].run_to_completion()
        jobs["silver"].run_to_completion()
    finally:
        for job in jobs.values():
            if job.process is not None and job.process.poll() is None:
                job.kill()
    truth = traffic.truth
    print(f"N = {produced} records produced: {len(truth.event_ids)} distinct events, {len(truth.transactions)} "
          f"transactions (status updates out of order), {truth.duplicates} duplicates, "
          f"{sum(truth.malformed.values())} malformed; {KILLS} kills, {sum(j.starts for j in jobs.values())} starts")
    assert produced == len(traffic.records)

    assert_bronze_holds_each_offset_once(spark, cfg, topics)
    assert_silver_holds_the_truth(spark, cfg, traffic.truth)


def second_instance_is_refused(spark, cfg, running) -> None:
    """Another run on the checkpoint of the running bronze process must fail before touching it."""
    with pytest.raises(CheckpointLockedError, match=r"checkpoint .*kafka_to_bronze/user_events is in use by pid"):
        start_bronze(spark, cfg, bronze_options(",".join(CONTRACTS)))
    assert running.process.poll() is None
    print("second bronze instance on the same checkpoint: refused")


def assert_bronze_holds_each_offset_once(spark, cfg, topics) -> None:
    for contract, topic in topics.items():
        ends = {p: r.latest for p, r in topic_offsets(cfg, topic).items()}
        counts = (table(spark, cfg, "bronze", contract).groupBy("kafka_partition")
                  .agg(F.count("*").alias("rows"), F.countDistinct("kafka_offset").alias("offsets"),
                       F.min("kafka_offset").alias("first"), F.max("kafka_offset").alias("last")).collect())
        found = {r.kafka_partition: (r.rows, r.offsets, r.first, r.last) for r in counts}
        print(f"bronze.{contract}: {sum(v[0] for v in found.values())} rows for {sum(ends.values())} offsets")
        assert found == {p: (end, end, 0, end - 1) for p, end in ends.items() if end}


def assert_silver_holds_the_truth(spark, cfg, truth) -> None:
    events = table(spark, cfg, "silver", "user_events")
    event_ids = [r.event_id for r in events.select("event_id").collect()]
    transactions = table(spark, cfg, "silver", "transactions").select(
        "transaction_id", F.date_format("updated_at", "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").alias("updated_at"), "status")
    latest = {r.transaction_id: (r.updated_at, r.status) for r in transactions.collect()}
    quarantined = {c: table(spark, cfg, "quarantine", c).select("kafka_partition", "kafka_offset").collect()
                   for c in CONTRACTS}
    print(f"silver.user_events: {len(event_ids)} rows, {len(set(event_ids))} distinct, "
          f"{len(truth.event_ids)} expected; silver.transactions: {transactions.count()} rows, "
          f"{len(truth.transactions)} expected; quarantined: "
          + ", ".join(f"{c} {len(rows)} of {truth.malformed[c]}" for c, rows in quarantined.items()))
    assert len(event_ids) == len(set(event_ids))
    assert set(event_ids) == truth.event_ids
    assert transactions.count() == len(latest)
    assert latest == truth.transactions
    for contract, rows in quarantined.items():
        assert len(rows) == len(set(rows)) == truth.malformed[contract]
