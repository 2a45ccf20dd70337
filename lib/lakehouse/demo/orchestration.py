"""The demo's Airflow step: the same pipeline once more, driven by the DAGs (`airflow dags test`).

Runs only with LAKEHOUSE_DEMO_AIRFLOW=1 (`make demo AIRFLOW=1`), after the job-by-job steps have
filled the sources: each DAG's tasks then spark-submit the jobs locally against the demo's lake.
Airflow runs in subprocesses with its home under services.state_dir, so the demo process never
imports Airflow.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from lakehouse.config import Config

DEMO_DAGS = ("streaming_pipeline", "postgres_extract_hourly", "daily_warehouse_build", "table_maintenance")
ENABLED = ("1", "true", "yes")


def airflow_environment(cfg: Config) -> dict[str, str]:
    """Airflow in a private home, reading this repository's DAGs, for cfg's environment and lake."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(Path(cfg.services.state_dir) / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(Path(cfg.project_root) / "airflow" / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "LAKEHOUSE_ENV": cfg.env,
        "LAKEHOUSE__LAKE__ROOT": cfg.lake.root,
        "LAKEHOUSE__LAKE__CHECKPOINT_ROOT": cfg.lake.checkpoint_root,
    }


def run_pipeline_through_airflow(cfg: Config, state: dict) -> str:
    if os.environ.get("LAKEHOUSE_DEMO_AIRFLOW", "").lower() not in ENABLED:
        return "skipped (`make demo AIRFLOW=1` also runs every DAG with `airflow dags test`)"
    env = airflow_environment(cfg)
    airflow = str(Path(sys.executable).with_name("airflow"))
    for setup in (["db", "migrate"], ["dags", "reserialize"]):
        _airflow(airflow, setup, env, cfg.project_root)
    outcomes = []
    for dag_id in DEMO_DAGS:
        started = time.monotonic()
        _airflow(airflow, ["dags", "test", dag_id], env, cfg.project_root)
        state[f"airflow {dag_id}"] = "success"
        outcomes.append(f"{dag_id} succeeded ({time.monotonic() - started:.0f}s)")
    return "; ".join(outcomes)


def _airflow(airflow: str, args: list[str], env: dict[str, str], cwd: str) -> None:
    result = subprocess.run([airflow, *args], env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise RuntimeError(f"airflow {' '.join(args)} failed (status {result.returncode}):\n{tail}")
