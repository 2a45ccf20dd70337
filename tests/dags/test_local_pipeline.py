"""The DAGs run end to end on this machine (`emr.runner: local`): each job task is a real
spark-submit of the job file against the local services, driven by `dag.test()`.

- The table maintenance DAG runs on Delta tables written for the test.
- The full pipeline: streaming -> hourly extract -> daily build, run once in its own lake, topics and
  Postgres database; then the silver tables, and the marts dbt built from the jobs' own output against
  an independent recomputation.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

from tests.conftest import PROJECT_ROOT, unique_name
from tests.dags.conftest import load_dag_bag, outside_the_daily_gate
from tests.integration.revenue_recomputation import (
    assert_marts_equal,
    expected_daily_revenue,
    expected_monthly_revenue,
)

CONTRACTS = ("user_events", "transaction_events", "system_metrics")
RUNS_THE_PIPELINE = pytest.mark.timeout(600)  # whichever test of daily_pipeline comes first pays for the run


def local_dags(monkeypatch, lake: Path, topics: Optional[dict[str, str]] = None,
               database: Optional[str] = None) -> dict:
    """The local environment's DAGs with the lake, checkpoints and dbt state in `lake`, the streaming
    contracts mapped to `topics` and the extract reading `database`."""
    overrides = {
        "lake__root": str(lake / "tables"),
        "lake__checkpoint_root": str(lake / "checkpoints"),
        "spark__driver_memory": "1g",
        "spark__shuffle_partitions": "2",
        **{f"streaming__topics__{contract}": topic for contract, topic in (topics or {}).items()},
        **({"postgres__database": database} if database else {}),
    }
    for name, value in {"DBT_DUCKDB_PATH": lake / "warehouse.duckdb", "DBT_TARGET_PATH": lake / "dbt-target",
                        "DBT_LOG_PATH": lake / "dbt-logs"}.items():
        monkeypatch.setenv(name, str(value))
    bag = load_dag_bag(monkeypatch, "local", **overrides)
    assert bag.import_errors == {}
    return bag.dags


def without_retries(dag):
    """`dag` with its tasks' retries off: dag.test() would otherwise wait out two 5-minute retry delays."""
    for task in dag.tasks:
        task.retries = 0
    return dag


def delta_files_and_operations(path: Path) -> tuple[int, list[str]]:
    from deltalake import DeltaTable

    table = DeltaTable(str(path))
    return len(table.file_uris()), [entry["operation"] for entry in reversed(table.history())]


@pytest.mark.slow
def test_the_table_maintenance_dag_runs_its_job_locally(tmp_path, monkeypatch, airflow_db, s3_service):
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    orders = tmp_path / "tables" / "silver" / "orders"
    for batch in range(4):
        ids = [batch * 10 + i for i in range(10)]
        write_deltalake(str(orders), pa.table({
            "order_id": pa.array(ids, pa.int64()),
            "customer_id": pa.array([None if i == 0 else i % 3 for i in range(10)], pa.int64()),
        }), mode="append")
    rows_before = sorted(DeltaTable(str(orders)).to_pyarrow_table().to_pylist(), key=lambda r: r["order_id"])
    dag = without_retries(local_dags(monkeypatch, tmp_path)["table_maintenance"])

    run = dag.test()

    assert run.state == "success"
    files, operations = delta_files_and_operations(orders)
    assert files == 1
    assert operations == ["WRITE"] * 4 + ["OPTIMIZE", "VACUUM START", "VACUUM END"]
    rows_after = sorted(DeltaTable(str(orders)).to_pyarrow_table().to_pylist(), key=lambda r: r["order_id"])
    assert rows_after == rows_before
    assert not (tmp_path / "tables" / "silver" / "users").exists()  # not written: skipped, not created


@pytest.mark.slow
def test_a_failing_job_fails_the_dag_run(tmp_path, monkeypatch, airflow_db, s3_service):
    # A table whose ZORDER column does not exist: the job fails that table and exits 1.
    import pyarrow as pa
    from deltalake import write_deltalake

    write_deltalake(str(tmp_path / "tables" / "silver" / "orders"), pa.table({"order_id": [1, 2]}))
    dag = without_retries(local_dags(monkeypatch, tmp_path)["table_maintenance"])

    run = dag.test()

    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == {"maintain_extract_tables": "failed", "maintain_streaming_tables": "success",
                      "maintain_landed_files_tables": "success"}


@dataclass
class PipelineRun:
    """One run of the three DAGs over a day, in its own lake, topics and Postgres database."""

    lake: Path
    states: dict[str, str]
    produced: dict[str, int]

    def silver(self, table: str) -> list[dict]:
        return self.table("silver", table)

    def table(self, layer: str, name: str) -> list[dict]:
        from deltalake import DeltaTable

        return DeltaTable(str(self.lake / "tables" / layer / name)).to_pyarrow_table().to_pylist()

    def quality_results(self) -> list[dict]:
        return self.table("ops", "quality_results")

    def query(self, sql: str) -> list[dict]:
        """`sql` on the warehouse the daily build made; `{<table>}` in it becomes that table in the schema
        the build put it in (the finance marts have their own)."""
        import duckdb

        with duckdb.connect(str(self.lake / "warehouse" / "lakehouse.duckdb"), read_only=True) as warehouse:
            tables = {name: f"{schema}.{name}" for schema, name in warehouse.execute(
                "select table_schema, table_name from information_schema.tables").fetchall()}
            relation = warehouse.sql(sql.format(**tables))
            return [dict(zip(relation.columns, row)) for row in relation.fetchall()]


PRODUCED = {"users": 200, "orders": 1000, "user_events": 2000, "transactions": 500, "system_metrics": 200,
            "accounts": 3}


def topics_and_database(cfg) -> tuple[dict[str, str], str]:
    """Throwaway topics for the three contracts (the producer creates them) and a new database."""
    from lakehouse.services.postgres import PostgresServer

    database = unique_name("pipeline")
    with PostgresServer(cfg).admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{database}" OWNER "{cfg.postgres.user}"')
    return {contract: unique_name(contract) for contract in CONTRACTS}, database


def drop_topics_and_database(cfg, topics: dict[str, str], database: str) -> None:
    from confluent_kafka.admin import AdminClient

    from lakehouse.kafka.client import client_config
    from lakehouse.services.postgres import PostgresServer

    with PostgresServer(cfg).admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin = AdminClient(client_config(cfg))
    created = [topic for topic in topics.values() if topic in admin.list_topics(timeout=10).topics]
    for future in (admin.delete_topics(created) if created else {}).values():
        future.result(timeout=30)


def seed_sources(topics: dict[str, str], database: str) -> None:
    topic_flags = [f"--set=streaming.topics.{contract}={topic}" for contract, topic in topics.items()]
    for tool, args in (("seed_postgres", ["--users", str(PRODUCED["users"]), "--orders", str(PRODUCED["orders"])]),
                       ("produce_events", ["--create-topics", *topic_flags, "--users", str(PRODUCED["users"]),
                                           "--user-events", str(PRODUCED["user_events"]),
                                           "--transactions", str(PRODUCED["transactions"]),
                                           "--system-metrics", str(PRODUCED["system_metrics"])])):
        result = subprocess.run([sys.executable, "-m", f"lakehouse_jobs.tools.{tool}", "--env", "local",
                                 f"--set=postgres.database={database}", *args],
                                cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{tool}: {result.stdout}{result.stderr}"


def land_accounts(folder: Path, started: dt.datetime) -> None:
    """Account files as Airbyte lands them."""
    folder.mkdir(parents=True)
    now_ms = int(started.timestamp() * 1000)
    (folder / "accounts_0.jsonl").write_text("\n".join(json.dumps({
        "_airbyte_raw_id": f"raw-{i}", "_airbyte_extracted_at": now_ms, "_airbyte_generation_id": 1,
        "_airbyte_meta": {"sync_id": 1, "changes": []},
        "_airbyte_data": {"Id": f"001A{i:04d}", "Name": f"Account {i}", "Industry": "Retail",
                          "AnnualRevenue": "1000.50", "BillingCountry": "US",
                          "CreatedDate": "2025-01-01T00:00:00Z", "LastModifiedDate": started.isoformat()},
    }) for i in range(PRODUCED["accounts"])) + "\n")


@pytest.fixture(scope="module")
def daily_pipeline(cfg, tmp_path_factory, airflow_db, kafka_service, postgres_service, s3_service) -> PipelineRun:
    """Sources -> streaming_pipeline -> postgres_extract_hourly -> daily_warehouse_build, as the
    scheduler would run them over a day, in this module's own lake, topics and database."""
    lake = tmp_path_factory.mktemp("pipeline")
    topics, database = topics_and_database(cfg)
    try:
        seed_sources(topics, database)
        land_accounts(lake / "tables" / "raw" / "salesforce" / "account", dt.datetime.now(dt.timezone.utc))
        with pytest.MonkeyPatch.context() as monkeypatch:
            dags = local_dags(monkeypatch, lake, topics, database)
            extract = dags["postgres_extract_hourly"]
            dated = {extract.dag_id: {"logical_date": outside_the_daily_gate(extract, "check_reconcile_due")}}
            states = {dag_id: without_retries(dags[dag_id]).test(**dated.get(dag_id, {})).state
                      for dag_id in ("streaming_pipeline", "postgres_extract_hourly", "daily_warehouse_build")}
        yield PipelineRun(lake, states, PRODUCED)
    finally:
        drop_topics_and_database(cfg, topics, database)


@pytest.mark.slow
@RUNS_THE_PIPELINE
def test_the_daily_pipeline_runs_locally_end_to_end(daily_pipeline):
    assert daily_pipeline.states == dict.fromkeys(
        ("streaming_pipeline", "postgres_extract_hourly", "daily_warehouse_build"), "success")
    sizes = {table: len(daily_pipeline.silver(table)) for table in ("user_events", "transactions", "users", "orders",
                                                                    "accounts", "system_metrics")}
    # Every source row once: the seeded tables and the accounts exactly, the streams at most as produced
    # (bad events are quarantined, repeated ids merged).
    assert (sizes["users"], sizes["orders"], sizes["accounts"]) == (200, 1000, 3), sizes
    assert 0 < sizes["transactions"] <= PRODUCED["transactions"], sizes
    assert 0 < sizes["user_events"] <= PRODUCED["user_events"], sizes
    assert 0 < sizes["system_metrics"] <= PRODUCED["system_metrics"], sizes


@pytest.mark.slow
@RUNS_THE_PIPELINE
def test_the_revenue_marts_built_from_the_jobs_output_equal_a_recomputation(daily_pipeline):
    orders = daily_pipeline.silver("orders")
    assert sum(o["status"] == "completed" for o in orders) > 0
    assert_marts_equal(daily_pipeline.query("select * from {fct_daily_revenue}"),
                       expected_daily_revenue(orders), "revenue_date")
    assert_marts_equal(daily_pipeline.query("select * from {fct_monthly_revenue}"),
                       expected_monthly_revenue(orders), "revenue_month")


@pytest.mark.slow
@RUNS_THE_PIPELINE
def test_the_fact_tables_hold_each_silver_row_once(daily_pipeline):
    transactions = Counter(row["transaction_id"] for row in daily_pipeline.silver("transactions"))
    facts = Counter(row["transaction_id"] for row in daily_pipeline.query(
        "select transaction_id from {fct_transactions}"))
    assert facts == transactions
    orders = Counter(row["order_id"] for row in daily_pipeline.silver("orders"))
    assert Counter(row["order_id"] for row in daily_pipeline.query("select order_id from {fct_orders}")) \
        == orders


@pytest.mark.slow
@RUNS_THE_PIPELINE
def test_silver_batches_and_the_dbt_build_record_their_checks(daily_pipeline):
    results = daily_pipeline.quality_results()
    silver = [r for r in results if r["source"] == "silver"]
    assert {r["table_name"] for r in silver} == {"silver.user_events", "silver.transactions", "silver.system_metrics"}
    assert all(r["check_name"] == "accepted_share" and r["status"] in ("pass", "warn", "fail") for r in silver)
    assert len({r["run_id"] for r in silver}) == len(silver), "one row per batch"
    for table, contract in (("user_events", "user_events"), ("transactions", "transaction_events"),
                            ("system_metrics", "system_metrics")):
        checked = sum(r["rows_checked"] for r in silver if r["table_name"] == f"silver.{table}")
        assert checked == len(daily_pipeline.table("bronze", contract)), table  # every bronze row judged once
    dbt = [r for r in results if r["source"] == "dbt"]
    assert len({r["run_id"] for r in dbt}) == 1, "one dbt build"
    assert len(dbt) >= 20
    assert {r["status"] for r in dbt} <= {"pass", "warn"}, [r for r in dbt if r["status"] == "fail"]
    assert all(r["check_name"] and r["table_name"] for r in dbt)
