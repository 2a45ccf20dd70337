"""DAG integrity: the DagBag imports cleanly and offline, every DAG carries the shared settings, and
each task graph is the one its documentation draws (in every environment's shape).
"""
from __future__ import annotations

import json
import re
import socket
from datetime import timedelta

import pytest

from tests.conftest import PROJECT_ROOT
from tests.dags.conftest import dag_files, load_dag_bag

ENVS = ("local", "dev", "prod")
CLUSTER_TASKS = {"create_cluster", "terminate_cluster", "find_ingest_cluster"}
POOLS = PROJECT_ROOT / "airflow" / "pools.json"


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection or resolve a name fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access while parsing DAGs: {args[1:] or kwargs}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def documented_graph(doc: str) -> tuple[set[str], set[tuple[str, str]]]:
    """Nodes and edges of the fenced block under '#### Task graph' (lines like `a >> b >> c`)."""
    block = re.search(r"#### Task graph\n```\n(.*?)\n```", doc, re.DOTALL)
    assert block, "the DAG doc has no '#### Task graph' block"
    nodes, edges = set(), set()
    for line in block.group(1).splitlines():
        chain = [name.strip() for name in line.split(">>") if name.strip()]
        nodes.update(chain)
        edges.update(zip(chain, chain[1:]))
    return nodes, edges


def job_level_graph(dag) -> tuple[set[str], set[tuple[str, str]]]:
    """The DAG's graph without the cluster tasks (which the docs describe in prose)."""
    nodes = {t.task_id for t in dag.tasks} - CLUSTER_TASKS
    edges = {(t.task_id, down) for t in dag.tasks for down in t.downstream_task_ids
             if not {t.task_id, down} & CLUSTER_TASKS}
    return nodes, edges


@pytest.mark.parametrize("env", ENVS)
def test_dag_bag_imports_without_errors_and_without_the_network(env, monkeypatch, no_network):
    bag = load_dag_bag(monkeypatch, env)
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == sorted(path.stem for path in dag_files())


def test_every_dag_file_defines_one_dag_named_after_the_file(monkeypatch):
    bag = load_dag_bag(monkeypatch, "prod")
    for path in dag_files():
        defined = [dag_id for dag_id, dag in bag.dags.items() if dag.fileloc == str(path)]
        assert defined == [path.stem], path.name


@pytest.mark.parametrize("env", ENVS)
def test_every_dag_has_owner_retries_tags_docs_and_the_shared_defaults(env, monkeypatch):
    from lakehouse.orchestration.alerts import FailureAlertNotifier

    bag = load_dag_bag(monkeypatch, env)
    for dag in bag.dags.values():
        assert len(dag.doc_md or "") > 200, dag.dag_id
        assert {"lakehouse", env} <= set(dag.tags), dag.dag_id
        assert dag.max_active_runs == 1, dag.dag_id
        assert dag.catchup is False, dag.dag_id
        for task in dag.tasks:
            assert task.owner == "data-engineering", task.task_id
            assert task.retries == 2, task.task_id
            assert task.retry_delay == timedelta(minutes=5), task.task_id
            assert any(isinstance(cb, FailureAlertNotifier) for cb in task.on_failure_callback), task.task_id


@pytest.mark.parametrize("env", ENVS)
def test_task_graphs_are_what_the_docs_say(env, monkeypatch):
    bag = load_dag_bag(monkeypatch, env)
    for dag in bag.dags.values():
        assert job_level_graph(dag) == documented_graph(dag.doc_md), dag.dag_id


def test_documented_graphs_are_the_agreed_pipeline(monkeypatch):
    bag = load_dag_bag(monkeypatch, "local")
    graphs = {dag_id: documented_graph(dag.doc_md)[1] or documented_graph(dag.doc_md)[0]
              for dag_id, dag in bag.dags.items()}
    assert graphs == {
        "streaming_pipeline": {("ingest_bronze", "refine_silver")},
        "postgres_extract_hourly": {("extract_postgres", "check_reconcile_due"),
                                    ("check_reconcile_due", "reconcile_postgres")},
        "daily_warehouse_build": {("ingest_files", "refresh_external_tables"),
                                  ("refresh_external_tables", "check_source_freshness"),
                                  ("check_source_freshness", "build_warehouse")},
        "table_maintenance": {"maintain_streaming_tables", "maintain_extract_tables", "maintain_landed_files_tables"},
    }


def job_tasks(dag) -> list:
    return [t for t in dag.tasks if t.task_id not in CLUSTER_TASKS
            and t.task_type not in ("DbtOperator", "ShortCircuitOperator")]


@pytest.mark.parametrize(("dag_id", "purpose"), [("streaming_pipeline", "ingest"),
                                                 ("postgres_extract_hourly", "ingest"),
                                                 ("daily_warehouse_build", "transient"),
                                                 ("table_maintenance", "transient")])
def test_on_emr_each_job_is_one_retryable_step_task_on_its_kind_of_cluster(monkeypatch, dag_id, purpose):
    from lakehouse.orchestration.operators import IngestClusterOperator, LakehouseEmrStepOperator

    dag = load_dag_bag(monkeypatch, "prod").dags[dag_id]
    jobs = job_tasks(dag)
    assert jobs
    assert all(isinstance(task, LakehouseEmrStepOperator) for task in jobs)
    if purpose == "ingest":
        find = dag.get_task("find_ingest_cluster")
        assert isinstance(find, IngestClusterOperator)
        assert find.pool == "lakehouse_ingest_cluster"
        assert find.job_flow_overrides["Name"] == "lakehouse-prod-ingest"
        tags = {tag["Key"]: tag["Value"] for tag in find.job_flow_overrides["Tags"]}
        assert tags["lakehouse-cluster"] == "ingest"
        assert find.job_flow_overrides["AutoTerminationPolicy"] == {"IdleTimeout": 3600}
        assert not {"create_cluster", "terminate_cluster"} & set(dag.task_ids)
        upstream = find
    else:
        create, terminate = dag.get_task("create_cluster"), dag.get_task("terminate_cluster")
        assert create.is_setup
        assert terminate.is_teardown
        assert terminate.trigger_rule == "all_done_setup_success"  # all done, whatever the outcome
        assert "find_ingest_cluster" not in dag.task_ids
        upstream = create
    for task in jobs:
        assert upstream.task_id in task.upstream_task_ids, task.task_id
        assert task.deferrable is True
        assert task.retries == 2
        assert len(task.steps) == 1
        assert "Name" not in task.steps[0]
        assert task.pool.startswith("lakehouse_")
        assert task.pool.endswith("_tables")


def test_with_an_existing_cluster_id_no_cluster_is_looked_up_created_or_terminated(monkeypatch):
    bag = load_dag_bag(monkeypatch, "prod", emr__cluster_id="j-1SHAREDCLUSTER")
    for dag in bag.dags.values():
        assert not {t.task_id for t in dag.tasks} & CLUSTER_TASKS, dag.dag_id
        for task in job_tasks(dag):
            assert task.job_flow_id == "j-1SHAREDCLUSTER"


def test_locally_each_job_is_one_spark_submit_of_its_job_file_under_the_same_task_id(monkeypatch):
    from lakehouse.orchestration.operators import LocalSparkSubmitOperator

    local, prod = load_dag_bag(monkeypatch, "local").dags, load_dag_bag(monkeypatch, "prod").dags
    jobs = {}
    for dag in local.values():
        assert not {t.task_id for t in dag.tasks} & CLUSTER_TASKS
        assert {t.task_id for t in job_tasks(dag)} == {t.task_id for t in job_tasks(prod[dag.dag_id])}
        for task in job_tasks(dag):
            assert isinstance(task, LocalSparkSubmitOperator)
            assert task.command[0] == "spark-submit"
            assert task.job_file in task.command
            jobs[task.task_id] = task.job_file.split("/jobs/")[1]
    assert jobs == {
        "ingest_bronze": "streaming/kafka_to_bronze.py",
        "refine_silver": "streaming/bronze_to_silver.py",
        "extract_postgres": "batch/postgres_extract.py",
        "reconcile_postgres": "batch/postgres_extract.py",
        "ingest_files": "batch/files_to_bronze.py",
        "maintain_streaming_tables": "batch/table_maintenance.py",
        "maintain_extract_tables": "batch/table_maintenance.py",
        "maintain_landed_files_tables": "batch/table_maintenance.py",
    }


@pytest.mark.parametrize("env", ENVS)
def test_maintenance_never_shares_a_table_with_a_running_writer(env, monkeypatch):
    """Every task that writes a table group and its maintenance task share one pool of one slot that counts
    deferred tasks (an EMR step's wait), so OPTIMIZE and VACUUM never run beside the group's writer."""
    from lakehouse.config import load_config
    from tests.conftest import CONF_DIR

    pools = json.loads(POOLS.read_text())
    cfg = load_config(env, CONF_DIR, environ={})
    dags = load_dag_bag(monkeypatch, env).dags
    used = {task.pool for dag in dags.values() for task in dag.tasks if task.pool != "default_pool"}
    assert used <= set(pools)
    writers = {table.writer for table in cfg.maintenance.tables.values()}
    for writer in writers:
        pool = f"lakehouse_{writer}_tables"
        assert pools[pool] == {**pools[pool], "slots": 1, "include_deferred": True}
        maintain = dags["table_maintenance"].get_task(f"maintain_{writer}_tables")
        assert maintain.pool == pool
        tables = maintain.command[-1] if env == "local" else maintain.steps[0]["HadoopJarStep"]["Args"][-1]
        assert sorted(tables.split(",")) == sorted(n for n, t in cfg.maintenance.tables.items() if t.writer == writer)
    writer_pools = {dag_id: {t.pool for t in job_tasks(dag)} for dag_id, dag in dags.items()}
    assert writer_pools["streaming_pipeline"] == {"lakehouse_streaming_tables"}
    assert writer_pools["postgres_extract_hourly"] == {"lakehouse_extract_tables"}
    assert writer_pools["daily_warehouse_build"] == {"lakehouse_landed_files_tables"}


@pytest.mark.parametrize(("env", "target"), [("local", "local"), ("dev", "dev"), ("prod", "prod")])
def test_the_daily_build_refreshes_then_gates_dbt_on_source_freshness_and_has_a_deadline(env, target, monkeypatch):
    bag = load_dag_bag(monkeypatch, env)
    dag = bag.dags["daily_warehouse_build"]
    refresh = dag.get_task("refresh_external_tables")
    freshness, build = dag.get_task("check_source_freshness"), dag.get_task("build_warehouse")
    assert refresh.command[:3] == ["dbt", "run-operation", "refresh_lake_external_tables"]
    assert freshness.command[:3] == ["dbt", "source", "freshness"]
    assert build.command[:2] == ["dbt", "build"]
    for task in (refresh, freshness, build):
        assert task.command[task.command.index("--target") + 1] == target
    assert refresh.task_id in freshness.upstream_task_ids
    assert dag.get_task("ingest_files").task_id in refresh.upstream_task_ids
    assert freshness.task_id in build.upstream_task_ids
    if env == "local":
        assert not dag.deadline  # nobody to alert on a laptop
    else:
        (deadline,) = dag.deadline
        assert deadline.interval == timedelta(hours=6)
        assert deadline.callback.path == "lakehouse.orchestration.alerts.deadline_missed"
    others = [d for d in bag.dags.values() if d.dag_id != "daily_warehouse_build"]
    assert all(not d.deadline for d in others)


def test_streaming_runs_are_available_now_runs(monkeypatch):
    bag = load_dag_bag(monkeypatch, "prod")
    dag = bag.dags["streaming_pipeline"]
    for task_id in ("ingest_bronze", "refine_silver"):
        args = dag.get_task(task_id).steps[0]["HadoopJarStep"]["Args"]
        assert args[-2:] == ["--trigger", "available-now"]


@pytest.mark.parametrize("env", ENVS)
def test_the_hourly_extract_reconciles_once_a_day_in_a_task_that_alerts_when_it_fails(env, monkeypatch):
    """The reconcile job exits 1 when it finds rows behind the position (tests/integration/
    test_postgres_incremental.py); a failed task alerts through the failure notifier."""
    from datetime import datetime, timezone

    from lakehouse.orchestration.alerts import FailureAlertNotifier

    dag = load_dag_bag(monkeypatch, env).dags["postgres_extract_hourly"]
    gate, reconcile = dag.get_task("check_reconcile_due"), dag.get_task("reconcile_postgres")
    command = reconcile.command if env == "local" else reconcile.steps[0]["HadoopJarStep"]["Args"]
    assert command[-2:] == ["--mode", "reconcile"]
    runs = [datetime(2026, 3, 1, tzinfo=timezone.utc) + timedelta(hours=h, minutes=5) for h in range(48)]
    due = [run for run in runs if gate.python_callable(logical_date=run, **gate.op_kwargs)]
    assert [run.day for run in due] == [1, 2], "one run a day"
    assert gate.python_callable(logical_date=None, **gate.op_kwargs), "a manual run reconciles"
    assert any(isinstance(cb, FailureAlertNotifier) for cb in reconcile.on_failure_callback)
    assert reconcile.retries == 2
