"""Orchestration tests share the DAG tests' Airflow set-up: importing it sets AIRFLOW_HOME and friends
before any test module imports Airflow."""
from __future__ import annotations

import tests.dags.conftest  # noqa: F401
