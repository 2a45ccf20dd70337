"""dbt invocations for the warehouse build: the same commands on Snowflake (dev, prod) and locally.

dbt runs on the Airflow worker (it only sends SQL to the warehouse). The target comes from
airflow.dbt_target; the project reads the lake's root from DBT_LAKE_ROOT (local Delta tables or
the S3 location behind Snowflake's external tables). Snowflake credentials reach dbt as the
environment variables dbt/profiles.yml names, set on the workers by the deployment.
"""
from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from lakehouse.config import Config
from lakehouse.orchestration.local import LocalJobError, LoggedProcess


def dbt_binary() -> str:
    """dbt next to this interpreter (the project's venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("dbt")
    if beside.is_file():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise LocalJobError("dbt not found next to the Python interpreter nor on PATH (pip install '.[dbt]')")
    return found


def dbt_command(cfg: Config, dbt_args: Sequence[str]) -> list[str]:
    """`dbt <dbt_args> --project-dir ... --profiles-dir ... --target ...` for cfg's environment."""
    return [
        "dbt", *dbt_args,
        "--project-dir", cfg.airflow.dbt_project_dir,
        "--profiles-dir", cfg.airflow.dbt_profiles_dir,
        "--target", cfg.airflow.dbt_target,
    ]


def dbt_env(cfg: Config) -> dict[str, str]:
    """The variables the dbt project reads besides credentials (which the worker's environment holds).

    The local target's DuckDB file is the one lakehouse.warehouse uses (next to the lake's folder),
    so the demo, the tests and the DAGs build and read the same warehouse.
    """
    env = {
        "DBT_LAKE_ROOT": cfg.lake.root.rstrip("/"),
        "DBT_TARGET": cfg.airflow.dbt_target,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
    }
    if cfg.airflow.dbt_target == "local":
        from lakehouse.warehouse.dbt_runner import local_warehouse_path

        env["DBT_DUCKDB_PATH"] = str(local_warehouse_path(cfg))
    return env


def dbt_process(command: Sequence[str], project_dir: str, env: dict[str, str]) -> LoggedProcess:
    """The process running a dbt_command from the project folder (relative paths in profiles resolve there)."""
    if not command or command[0] != "dbt":
        raise ValueError(f"expected a dbt command, got {list(command)[:1]}")
    if env.get("DBT_DUCKDB_PATH"):
        Path(env["DBT_DUCKDB_PATH"]).parent.mkdir(parents=True, exist_ok=True)
    return LoggedProcess([dbt_binary(), *command[1:]], project_dir, env)
