"""The demo's steps in order: every step prints what it did and how long it took, then a summary."""
from __future__ import annotations

import time
from typing import Callable

from lakehouse.config import Config
from lakehouse.demo.batch import extract_postgres, land_and_ingest_files, seed_postgres
from lakehouse.demo.orchestration import run_pipeline_through_airflow
from lakehouse.demo.services import create_topics, start_services
from lakehouse.demo.streaming import bronze_to_silver, kafka_to_bronze, produce_traffic, table_counts
from lakehouse.demo.warehouse import build_warehouse

Step = tuple[str, Callable[[Config, dict], str]]

STEPS: list[Step] = [
    ("start local services", start_services),
    ("create topics", create_topics),
    ("produce synthetic traffic", produce_traffic),
    ("Kafka -> bronze (available-now)", kafka_to_bronze),
    ("bronze -> silver (available-now)", bronze_to_silver),
    ("streaming table counts", table_counts),
    # The batch side fills silver.users/orders/accounts for dbt.
    ("seed Postgres source tables", seed_postgres),
    ("Postgres -> Delta extracts, around live writes", extract_postgres),
    ("land Salesforce files (Airbyte) and ingest them", land_and_ingest_files),
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
