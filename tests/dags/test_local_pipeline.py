"""The DAGs run end to end on this machine (`emr.runner: local`): each job task is a real
spark-submit of the job file against the local services, driven by `dag.test()`.

- The table maintenance DAG runs on Delta tables written for the test.
- The full pipeline: streaming -> hourly extract -> daily build, then the marts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from tests.conftest import PROJECT_ROOT, unique_name
from tests.dags.conftest import load_dag_bag


def local_dags(monkeypatch, lake: Path, topics: Optional[dict[str, str]] = None) -> dict:
    """The local environment's DAGs with the lake, checkpoints and dbt state in `lake`, and the
    streaming contracts mapped to `topics`."""
    overrides = {
        "lake__root": str(lake / "tables"),
        "lake__checkpoint_root": str(lake / "checkpoints"),
        "spark__driver_memory": "1g",
        "spark__shuffle_partitions": "2",
        **{f"streaming__topics__{contract}": topic for contract, topic in (topics or {}).items()},
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


@pytest.fixture
def pipeline_topics(cfg, kafka_service):
    """Throwaway topics for the three contracts (created by the producer), deleted afterwards."""
    from confluent_kafka.admin import AdminClient

    from lakehouse.kafka.client import client_config

    topics = {contract: unique_name(contract) for contract in ("user_events", "transaction_events", "system_metrics")}
    yield topics
    admin = AdminClient(client_config(cfg))
    existing = set(admin.list_topics(timeout=10).topics)
    created = [topic for topic in topics.values() if topic in existing]
    if created:
        for future in admin.delete_topics(created).values():
            future.result(timeout=30)


@pytest.mark.slow
def test_the_daily_pipeline_runs_locally_end_to_end(tmp_path, monkeypatch, airflow_db, pipeline_topics,
                                                     postgres_service, s3_service):
    """Sources -> streaming_pipeline -> postgres_extract_hourly -> daily_warehouse_build, as the
    scheduler would run them over a day; then the silver tables and the marts they produced."""
    import datetime as dt
    import json
    import subprocess
    import sys

    import duckdb
    from deltalake import DeltaTable

    started = dt.datetime.now(dt.timezone.utc)
    topic_flags = [f"--set=streaming.topics.{contract}={topic}" for contract, topic in pipeline_topics.items()]
    for tool, args in (("seed_postgres", ["--users", "200", "--orders", "1000"]),
                       ("produce_events", ["--create-topics", *topic_flags, "--users", "200", "--user-events", "2000",
                                           "--transactions", "500", "--system-metrics", "200"])):
        result = subprocess.run([sys.executable, "-m", f"lakehouse_jobs.tools.{tool}", "--env", "local", *args],
                                cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{tool}: {result.stdout}{result.stderr}"
    landed = tmp_path / "tables" / "raw" / "salesforce" / "account"
    landed.mkdir(parents=True)
    now_ms = int(started.timestamp() * 1000)
    (landed / "accounts_0.jsonl").write_text("\n".join(json.dumps({
        "_airbyte_raw_id": f"raw-{i}", "_airbyte_extracted_at": now_ms, "_airbyte_generation_id": 1,
        "_airbyte_meta": {"sync_id": 1, "changes": []},
        "_airbyte_data": {"Id": f"001A{i:04d}", "Name": f"Account {i}", "Industry": "Retail",
                          "AnnualRevenue": "1000.50", "BillingCountry": "US",
                          "CreatedDate": "2025-01-01T00:00:00Z", "LastModifiedDate": started.isoformat()},
    }) for i in range(3)) + "\n")
    dags = local_dags(monkeypatch, tmp_path, pipeline_topics)

    for dag_id in ("streaming_pipeline", "postgres_extract_hourly", "daily_warehouse_build"):
        assert without_retries(dags[dag_id]).test().state == "success", dag_id

    silver = tmp_path / "tables" / "silver"
    counts = {table: DeltaTable(str(silver / table)).to_pyarrow_table().num_rows
              for table in ("user_events", "transactions", "users", "orders", "accounts")}
    assert all(counts.values()), counts
    assert counts["accounts"] == 3
    orders = DeltaTable(str(silver / "orders")).to_pyarrow_table().to_pylist()
    completed = sum(o["order_total"] for o in orders if o["status"] == "completed")
    with duckdb.connect(str(tmp_path / "warehouse" / "lakehouse.duckdb"), read_only=True) as warehouse:
        schemas = dict(warehouse.execute(
            "select table_name, table_schema from information_schema.tables "
            "where table_name in ('fct_orders', 'fct_daily_revenue', 'fct_monthly_revenue')").fetchall())
        assert set(schemas) == {"fct_orders", "fct_daily_revenue", "fct_monthly_revenue"}
        (gross,) = warehouse.execute(
            f'select sum(gross_revenue) from "{schemas["fct_daily_revenue"]}".fct_daily_revenue').fetchone()
    assert completed > 0
    assert abs(float(gross) - float(completed)) < 0.01
