"""Airflow in-process for the DAG tests: a throwaway AIRFLOW_HOME, sqlite, the repository's DAG folder.

Airflow reads its settings when first imported, so they are set here, before any test module
imports it. `load_dag_bag` parses airflow/dags/ for one environment the way the DAG processor
does (the folder on sys.path, the shared settings module imported afresh).
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

DAGS_FOLDER = PROJECT_ROOT / "airflow" / "dags"
SETTINGS_MODULE = "lakehouse_dag_settings"

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="lakehouse-airflow-home-")
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ.update({
    "AIRFLOW_HOME": _AIRFLOW_HOME,
    "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__DAGBAG_IMPORT_ERROR_TRACEBACKS": "True",
})


def dag_files() -> list[Path]:
    ignored = {line.strip() for line in (DAGS_FOLDER / ".airflowignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    return sorted(p for p in DAGS_FOLDER.glob("*.py") if p.name not in ignored)


def load_dag_bag(monkeypatch, env: str, **overrides: str):
    """The DagBag of airflow/dags/ for LAKEHOUSE_ENV=env; overrides are LAKEHOUSE__* variables."""
    from airflow.dag_processing.dagbag import BundleDagBag

    for name in [name for name in os.environ if name.startswith("LAKEHOUSE__")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LAKEHOUSE_ENV", env)
    monkeypatch.delenv("LAKEHOUSE_CONF_DIR", raising=False)
    for name, value in overrides.items():
        monkeypatch.setenv(f"LAKEHOUSE__{name.upper()}", value)
    sys.modules.pop(SETTINGS_MODULE, None)  # its config is cached per process: re-read it for `env`
    return BundleDagBag(dag_folder=str(DAGS_FOLDER), bundle_path=DAGS_FOLDER)


def outside_the_daily_gate(dag, gate_id: str) -> datetime:
    """A logical date for dag.test() of an hourly DAG in which its once_a_day gate `gate_id` stays shut:
    the start of the latest past hour but the gate's. dag.test() alone dates the run now, so the tasks
    behind the gate would run or not depending on the hour the suite runs in."""
    gate_hour = dag.get_task(gate_id).op_kwargs["hour_utc"]
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return hour if hour.hour != gate_hour else hour - timedelta(hours=1)


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata database (sqlite in AIRFLOW_HOME), for dag.test()."""
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return _AIRFLOW_HOME
