"""The end-to-end demo behind `make demo`: every step prints what it did, then a summary."""
from __future__ import annotations

import json
import time
import uuid
from typing import Callable

from lakehouse.config import Config
from lakehouse.kafka.client import client_config
from lakehouse.kafka.topics import ensure_topics
from lakehouse.services import stack

Step = tuple[str, Callable[[Config, dict], str]]


def start_services(cfg: Config, state: dict) -> str:
    started = stack.up(cfg)
    return f"started {', '.join(started)}" if started else "all services already running"


def create_topics(cfg: Config, state: dict) -> str:
    return ", ".join(f"{topic} {outcome}" for topic, outcome in ensure_topics(cfg).items())


def produce_sample_events(cfg: Config, state: dict) -> str:
    from confluent_kafka import Producer

    producer = Producer(client_config(cfg, acks="all", **{"enable.idempotence": "true"}))
    run_id = uuid.uuid4().hex[:8]
    for i in range(1000):
        event = {"event_id": str(uuid.uuid4()), "user_id": f"user_{i % 50}", "event_type": "page_view",
                 "demo_run": run_id}
        producer.produce("user_events", key=event["user_id"], value=json.dumps(event))
    remaining = producer.flush(30)
    if remaining:
        raise RuntimeError(f"{remaining} events not acknowledged by the broker")
    state["demo_run"] = run_id
    return "1000 events acknowledged on user_events"


def kafka_to_delta_roundtrip(cfg: Config, state: dict) -> str:
    from pyspark.sql import functions as F

    from lakehouse.spark import build_spark

    spark = build_spark(cfg, "demo")
    raw = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", cfg.kafka.bootstrap_servers)
        .option("subscribe", "user_events")
        .option("startingOffsets", "earliest")
        .load()
        .select(F.col("value").cast("string").alias("value"), "partition", "offset")
        .where(F.get_json_object("value", "$.demo_run") == state["demo_run"])
    )
    path = cfg.lake.table_path("demo", "kafka_roundtrip")
    raw.write.format("delta").mode("overwrite").save(path)
    count = spark.read.format("delta").load(path).count()
    state["delta_rows"] = count
    return f"read {count} events back from Kafka into Delta table {path}"


STEPS: list[Step] = [
    ("start local services", start_services),
    ("create topics", create_topics),
    ("produce sample events", produce_sample_events),
    ("Kafka -> Delta round trip", kafka_to_delta_roundtrip),
]


def run_demo(cfg: Config, steps: list[Step] = STEPS) -> dict:
    """Runs the steps in order, printing each outcome and the time it took."""
    state: dict = {}
    for number, (title, step) in enumerate(steps, 1):
        started = time.monotonic()
        print(f"[{number}/{len(steps)}] {title} ...", flush=True)
        outcome = step(cfg, state)
        print(f"      {outcome} ({time.monotonic() - started:.1f}s)", flush=True)
    return state
