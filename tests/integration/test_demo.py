"""`make demo` end to end: the console script runs every step on the local stack and summarises; what it
left in the lake is checked against independent truth, not against the demo's own counters: the records
Kafka holds for the run (read back with a plain consumer), and the Postgres tables (read with psycopg).

The demo runs once, with its own lake, topics and Postgres database.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lakehouse.schemas import CONTRACTS
from tests.conftest import PROJECT_ROOT, local_config, unique_name

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@dataclass
class DemoRun:
    lake: Path
    database: str
    topics: dict[str, str]
    summary: dict[str, str]
    records: dict[str, list[tuple[int, int, bytes]]]  # contract -> what its topic holds, read once

    def table(self, layer: str, name: str) -> list[dict]:
        from deltalake import DeltaTable

        return DeltaTable(str(self.lake / layer / name)).to_pyarrow_table().to_pylist()


@pytest.fixture(scope="module")
def demo(tmp_path_factory, kafka_service, postgres_service, s3_service) -> DemoRun:
    from lakehouse.services.postgres import PostgresServer

    local = local_config()
    folder = tmp_path_factory.mktemp("demo")
    database = unique_name("demo")
    topics = {name: unique_name(name) for name in CONTRACTS}
    with PostgresServer(local).admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{database}" OWNER "{local.postgres.user}"')
    settings = [f"lake.root={folder}/lake", f"lake.checkpoint_root={folder}/checkpoints",
                f"postgres.database={database}", *(f"streaming.topics.{c}={t}" for c, t in topics.items())]
    demo = [sys.executable, "-m", "lakehouse_jobs.tools.demo", "--env", "local",
            *(arg for setting in settings for arg in ("--set", setting))]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE__")}
    try:
        env["SPARK_SUBMIT_OPTS"] = f"{env.get('SPARK_SUBMIT_OPTS', '')} -XX:ErrorFile={folder}/hs_err_%p.log"
        result = subprocess.run(demo, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=840)
        assert result.returncode == 0, failure_report(result, folder)
        assert "Summary:" in result.stdout, result.stdout
        summary = dict(line.strip().split(": ", 1) for line in result.stdout.split("Summary:")[1].splitlines()
                       if ": " in line)
        records = {contract: kafka_records(topic) for contract, topic in topics.items()}
        yield DemoRun(folder / "lake", database, topics, summary, records)
    finally:
        with PostgresServer(local).admin_connection() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        delete_topics(local, list(topics.values()))


def failure_report(result: subprocess.CompletedProcess, folder: Path) -> str:
    """The demo's output, ending with what a truncated CI log must still show: the steps it got through,
    the first error lines of its JVM and Python, and any JVM crash report."""
    errors = [line for line in result.stderr.splitlines()
              if any(word in line for word in ("ERROR", "Exception", "Error:", "Killed", "SIGTERM", "exit"))]
    crashes = [path.read_text(errors="replace")[:3000] for path in folder.glob("hs_err_*.log")]
    steps = [line for line in result.stdout.splitlines() if line.strip()]
    return "\n".join([result.stderr, "--- demo steps:", *steps, "--- first error lines:", *errors[:25],
                      "--- JVM crash reports:", *(crashes or ["none"])])


def delete_topics(cfg, topics: list[str]) -> None:
    from confluent_kafka.admin import AdminClient

    from lakehouse.kafka.client import client_config

    admin = AdminClient(client_config(cfg))
    existing = [topic for topic in topics if topic in admin.list_topics(timeout=10).topics]
    for future in (admin.delete_topics(existing) if existing else {}).values():
        future.result(timeout=30)


def kafka_records(topic: str) -> list[tuple[int, int, bytes]]:
    """(partition, offset, value) of every record the topic holds, read with a plain consumer."""
    from confluent_kafka import Consumer, TopicPartition

    from lakehouse.kafka.client import client_config

    consumer = Consumer({**client_config(local_config()), "group.id": unique_name("audit"),
                         "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions}
        consumer.assign([TopicPartition(topic, p, low) for p, (low, _) in ends.items()])
        remaining = sum(high - low for low, high in ends.values())
        records = []
        while remaining:
            for message in consumer.consume(min(remaining, 1000), timeout=10):
                assert message.error() is None, message.error()
                records.append((message.partition(), message.offset(), message.value()))
                remaining -= 1
        return records
    finally:
        consumer.close()


def test_demo_runs_every_step_and_prints_a_summary(demo):
    produced = sum(map(len, demo.records.values()))
    assert int(demo.summary["produced"]) == produced
    assert int(demo.summary["quarantine.user_events"]) > 0
    assert int(demo.summary["flagged transactions"]) > 0


def test_bronze_holds_every_record_kafka_holds_once(demo):
    for contract in demo.topics:
        in_kafka = Counter((partition, offset) for partition, offset, _ in demo.records[contract])
        in_bronze = Counter((row["kafka_partition"], row["kafka_offset"]) for row in demo.table("bronze", contract))
        assert in_bronze == in_kafka, contract
        assert in_kafka, contract


@pytest.mark.parametrize("contract", ["user_events", "transaction_events"])
def test_each_record_is_in_silver_by_its_key_or_in_quarantine(demo, contract):
    """A record not quarantined has its key once in silver; silver holds no key Kafka never carried."""
    (key,) = CONTRACTS[contract].merge.keys
    quarantined = Counter((row["kafka_partition"], row["kafka_offset"]) for row in demo.table("quarantine", contract))
    assert max(quarantined.values(), default=1) == 1, "a record quarantined twice"
    valid = [json.loads(value) for partition, offset, value in demo.records[contract]
             if (partition, offset) not in quarantined]
    silver = Counter(row[key] for row in demo.table("silver", CONTRACTS[contract].silver_table))
    assert silver == Counter(set(record[key] for record in valid))
    assert quarantined


def test_the_extracted_tables_equal_postgres_after_the_live_writes(demo):
    """silver.users and silver.orders hold what Postgres holds once the demo's writer stopped."""
    from lakehouse.sources.postgres import connect

    pg = local_config(f"postgres.database={demo.database}").postgres
    columns = {"users": ("user_id", "email", "country_code", "updated_at"),
               "orders": ("order_id", "customer_id", "order_total", "status", "updated_at")}
    with connect(pg, "demo-audit") as conn:
        for table, names in columns.items():
            source = Counter(conn.execute(f"select {', '.join(names)} from public.{table}").fetchall())
            lake = Counter(tuple(as_utc(row[name]) for name in names) for row in demo.table("silver", table))
            assert lake == source, table


def as_utc(value):
    return value.astimezone(timezone.utc) if isinstance(value, datetime) else value
