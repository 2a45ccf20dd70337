"""Runs the dbt project in a subprocess with its environment built from the config.

dbt reads everything it needs from environment variables (see dbt/profiles.yml): the lake's root
(`DBT_LAKE_ROOT`, from `lake.root`), the target, and for the local target the DuckDB file. A
subprocess keeps dbt's global state (adapters, logging, the DuckDB connection) out of the caller,
which may be a Spark job, the demo or a test.
"""
from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from lakehouse.config import Config
from lakehouse.lineage.client import lineage_client
from lakehouse.lineage.dbt import emit_dbt_lineage
from lakehouse.runtime.executables import venv_executable

# The silver tables dbt reads, by the dbt source that declares them (dbt/models/staging/_sources.yml).
SILVER_SOURCES = {"user_events": "events", "transactions": "transactions", "users": "users", "orders": "orders",
                  "accounts": "salesforce"}
PASSED = {"success", "pass"}


@dataclass(frozen=True)
class DbtRun:
    """The outcome of one dbt command: exit code, console output and each node's status."""

    args: tuple[str, ...]
    returncode: int
    output: str
    statuses: dict[str, str]

    @property
    def failures(self) -> dict[str, str]:
        """Nodes whose status is neither success (models, snapshots) nor pass (tests)."""
        return {node: status for node, status in self.statuses.items() if status not in PASSED}

    def check(self) -> DbtRun:
        """Returns self, or raises with the failed nodes and the end of dbt's output."""
        if self.returncode != 0 or self.failures:
            tail = "\n".join(self.output.splitlines()[-40:])
            raise RuntimeError(f"dbt {' '.join(self.args)} failed: {self.failures or 'see output'}\n{tail}")
        return self


def project_dir(cfg: Config) -> Path:
    return Path(cfg.project_root) / "dbt"


def local_warehouse_path(cfg: Config) -> Path:
    """The local target's DuckDB file: `warehouse/lakehouse.duckdb` next to the lake's folder."""
    root = _local_lake_root(cfg)
    return root.parent / "warehouse" / "lakehouse.duckdb"


def missing_silver_tables(cfg: Config) -> list[str]:
    """Silver tables the local target needs that have no Delta log under the lake yet."""
    root = _local_lake_root(cfg)
    return [name for name in SILVER_SOURCES if not (root / "silver" / name / "_delta_log").is_dir()]


def dbt_variables(
    cfg: Config, target: str = "local", duckdb_path: Optional[str] = None, work_dir: Optional[str] = None
) -> dict[str, str]:
    """The variables dbt/profiles.yml and the project read: profile, target, lake root, DuckDB file.

    Args:
        target: an output of dbt/profiles.yml (local, dev, prod, emulator); Snowflake credentials
            are not among these: they stay in the environment (SNOWFLAKE_*, DBT_ENV_SECRET_*).
        duckdb_path: the local target's database file (default `local_warehouse_path`).
        work_dir: where dbt writes target/ and logs/ (default dbt/target and dbt/logs).
    """
    env = {
        "DBT_PROFILES_DIR": str(project_dir(cfg)),
        "DBT_PROJECT_DIR": str(project_dir(cfg)),
        "DBT_TARGET": target,
        "DBT_LAKE_ROOT": cfg.lake.root.rstrip("/"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
    }
    if target == "local":
        env["DBT_DUCKDB_PATH"] = str(duckdb_path or local_warehouse_path(cfg))
    if work_dir:
        env["DBT_TARGET_PATH"] = str(Path(work_dir) / "target")
        env["DBT_LOG_PATH"] = str(Path(work_dir) / "logs")
    return env


def dbt_environment(
    cfg: Config,
    target: str = "local",
    duckdb_path: Optional[str] = None,
    work_dir: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
) -> dict[str, str]:
    """The inherited environment (os.environ by default) plus `dbt_variables`."""
    return {**(os.environ if environ is None else environ), **dbt_variables(cfg, target, duckdb_path, work_dir)}


def run_dbt(
    cfg: Config,
    args: Sequence[str],
    target: str = "local",
    dbt_vars: Optional[Mapping[str, object]] = None,
    duckdb_path: Optional[str] = None,
    work_dir: Optional[str] = None,
    timeout_s: float = 1800,
) -> DbtRun:
    """Runs `dbt <args>` on the project and returns its outcome (it does not raise on failure).

    Args:
        args: the dbt command and its flags, e.g. ["build", "--select", "marts"].
        dbt_vars: passed as --vars (JSON), e.g. {"as_of_date": "2025-06-30"}.
    """
    env = dbt_environment(cfg, target, duckdb_path, work_dir)
    ensure_duckdb_folder(env)
    command = [venv_executable("dbt", "pip install '.[dbt]'"), *args]
    if dbt_vars:
        command += ["--vars", json.dumps(dict(dbt_vars))]
    results = Path(env.get("DBT_TARGET_PATH") or project_dir(cfg) / "target") / _results_file(args)
    results.unlink(missing_ok=True)   # never report a previous command's results
    result = subprocess.run(
        command, cwd=project_dir(cfg), env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if results.name == "run_results.json":
        emit_dbt_lineage(lineage_client(cfg), results.parent, cfg.lineage.namespace, warehouse_namespace(env))
    return DbtRun(tuple(args), result.returncode, result.stdout + result.stderr, _statuses(results))


def warehouse_namespace(env: Mapping[str, str]) -> str:
    """The OpenLineage namespace of the warehouse dbt builds: the DuckDB file, or the Snowflake account."""
    if env["DBT_TARGET"] == "local":
        return f"duckdb://{Path(env['DBT_DUCKDB_PATH']).resolve()}"
    return f"snowflake://{env.get('SNOWFLAKE_ACCOUNT', 'unknown').lower()}"


def ensure_duckdb_folder(env: Mapping[str, str]) -> None:
    """Creates the folder of the local target's database file, if the environment names one."""
    if env.get("DBT_DUCKDB_PATH"):
        Path(env["DBT_DUCKDB_PATH"]).parent.mkdir(parents=True, exist_ok=True)


def _results_file(args: Sequence[str]) -> str:
    return "sources.json" if list(args[:2]) == ["source", "freshness"] else "run_results.json"


def _statuses(path: Path) -> dict[str, str]:
    """Node statuses from dbt's run_results.json or sources.json."""
    if not path.is_file():
        return {}
    return {result["unique_id"]: result["status"] for result in json.loads(path.read_text())["results"]}


def _local_lake_root(cfg: Config) -> Path:
    root = cfg.lake.root
    if "://" in root:
        raise ValueError(f"the local dbt target reads a local lake; lake.root is {root!r}")
    return Path(root)
