"""dbt invocations for the warehouse build: the same commands on Snowflake (dev, prod) and locally.

dbt runs on the Airflow worker (it only sends SQL to the warehouse). The target comes from
airflow.dbt_target; the project reads the lake's root from DBT_LAKE_ROOT (local Delta tables or
the S3 location behind Snowflake's external tables). Snowflake credentials reach dbt as the
environment variables dbt/profiles.yml names, set on the workers by the deployment.
"""
from __future__ import annotations

from collections.abc import Sequence

from lakehouse.config import Config
from lakehouse.orchestration.local import LoggedProcess
from lakehouse.runtime.executables import venv_executable
from lakehouse.warehouse.dbt_runner import dbt_variables, ensure_duckdb_folder


def dbt_command(cfg: Config, dbt_args: Sequence[str]) -> list[str]:
    """`dbt <dbt_args> --project-dir ... --profiles-dir ... --target ...` for cfg's environment."""
    return [
        "dbt", *dbt_args,
        "--project-dir", cfg.airflow.dbt_project_dir,
        "--profiles-dir", cfg.airflow.dbt_profiles_dir,
        "--target", cfg.airflow.dbt_target,
    ]


def dbt_env(cfg: Config) -> dict[str, str]:
    """The variables the dbt project reads besides credentials (which the worker's environment holds):
    those of lakehouse.warehouse.dbt_runner, so the demo, the tests and the DAGs build the same warehouse."""
    return dbt_variables(cfg, target=cfg.airflow.dbt_target)


def dbt_process(command: Sequence[str], project_dir: str, env: dict[str, str]) -> LoggedProcess:
    """The process running a dbt_command from the project folder (relative paths in profiles resolve there)."""
    if not command or command[0] != "dbt":
        raise ValueError(f"expected a dbt command, got {list(command)[:1]}")
    ensure_duckdb_folder(env)
    return LoggedProcess([venv_executable("dbt", "pip install '.[dbt]'"), *command[1:]], project_dir, env)
