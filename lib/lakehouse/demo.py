"""The end-to-end demo behind `make demo`: every step prints what it did, then a summary."""
from __future__ import annotations

import time
from typing import Callable

from lakehouse.config import Config
from lakehouse.extract.demo_steps import STEPS as BATCH_STEPS
from lakehouse.kafka.topics import ensure_topics
from lakehouse.orchestration.demo import run_pipeline_through_airflow
from lakehouse.services import stack
from lakehouse.streaming.demo_steps import STEPS as STREAMING_STEPS
from lakehouse.warehouse.demo import build_warehouse

Step = tuple[str, Callable[[Config, dict], str]]


def start_services(cfg: Config, state: dict) -> str:
    started = stack.up(cfg)
    return f"started {', '.join(started)}" if started else "all services already running"


def create_topics(cfg: Config, state: dict) -> str:
    return ", ".join(f"{topic} {outcome}" for topic, outcome in ensure_topics(cfg).items())


STEPS: list[Step] = [
    ("start local services", start_services),
    ("create topics", create_topics),
    *STREAMING_STEPS,  # produce traffic, bronze and silver (available-now), per-table counts
    *BATCH_STEPS,  # seed Postgres, extract it, ingest landed files: silver.users/orders/accounts for dbt
    ("dbt build on the local warehouse", build_warehouse),
    ("the same pipeline through Airflow (dags test)", run_pipeline_through_airflow),
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
