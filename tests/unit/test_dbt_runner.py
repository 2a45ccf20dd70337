"""The dbt runner's environment: everything dbt needs comes from the config, nothing is hard-coded."""
from __future__ import annotations

import pytest

from lakehouse.warehouse.dbt_runner import DbtRun, dbt_environment, local_warehouse_path, missing_silver_tables
from tests.conftest import PROJECT_ROOT, local_config


def test_local_target_reads_the_lake_root_and_keeps_the_database_next_to_the_lake(tmp_path):
    cfg = local_config(f"lake.root={tmp_path}/lake/")

    env = dbt_environment(cfg, environ={"PATH": "/bin"})

    assert env["DBT_LAKE_ROOT"] == f"{tmp_path}/lake"
    assert env["DBT_DUCKDB_PATH"] == f"{tmp_path}/warehouse/lakehouse.duckdb"
    assert env["DBT_PROFILES_DIR"] == env["DBT_PROJECT_DIR"] == str(PROJECT_ROOT / "dbt")
    assert (env["DBT_TARGET"], env["PATH"]) == ("local", "/bin")
    assert "DBT_TARGET_PATH" not in env, "dbt's own default: dbt/target"


def test_work_dir_holds_dbt_target_and_logs(tmp_path):
    env = dbt_environment(local_config(f"lake.root={tmp_path}/lake"), work_dir=str(tmp_path / "run"), environ={})
    assert (env["DBT_TARGET_PATH"], env["DBT_LOG_PATH"]) == (f"{tmp_path}/run/target", f"{tmp_path}/run/logs")


def test_snowflake_target_gets_the_s3_lake_root_and_no_local_database():
    cfg = local_config("lake.root=s3a://company-data-lake/lakehouse")

    env = dbt_environment(cfg, target="prod", environ={"SNOWFLAKE_ACCOUNT": "acme"})

    assert (env["DBT_TARGET"], env["DBT_LAKE_ROOT"], env["SNOWFLAKE_ACCOUNT"]) == (
        "prod", "s3a://company-data-lake/lakehouse", "acme")
    assert "DBT_DUCKDB_PATH" not in env


def test_local_target_refuses_a_remote_lake():
    with pytest.raises(ValueError, match="reads a local lake"):
        local_warehouse_path(local_config("lake.root=s3a://company-data-lake/lakehouse"))


def test_missing_silver_tables_are_those_without_a_delta_log(tmp_path):
    (tmp_path / "silver" / "orders" / "_delta_log").mkdir(parents=True)
    (tmp_path / "silver" / "users").mkdir(parents=True)   # a folder without a Delta log is not a table

    missing = missing_silver_tables(local_config(f"lake.root={tmp_path}"))

    assert missing == ["user_events", "transactions", "users", "accounts"]


def test_failures_are_nodes_neither_successful_nor_passed():
    run = DbtRun(("build",), 1, "", {"model.a": "success", "test.b": "pass", "test.c": "fail", "model.d": "skipped"})
    assert run.failures == {"test.c": "fail", "model.d": "skipped"}
    with pytest.raises(RuntimeError, match=r"test\.c"):
        run.check()
