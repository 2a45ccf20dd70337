"""DAG integrity: the DagBag imports cleanly and offline, every DAG carries the shared settings, and
each task graph is the one its documentation draws (in every environment's shape).
"""
from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest

from tests.dags.conftest import dag_files, load_dag_bag

ENVS = ("local", "dev", "prod")
CLUSTER_TASKS = {"create_cluster", "terminate_cluster"}


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
    """The DAG's graph with each task group collapsed to its id and the cluster tasks left out."""

    def node(task_id: str) -> str:
        return task_id.split(".")[0]

    nodes = {node(t.task_id) for t in dag.tasks} - CLUSTER_TASKS
    edges = {
        (node(t.task_id), node(down))
        for t in dag.tasks
        for down in t.downstream_task_ids
        if node(t.task_id) != node(down) and not {node(t.task_id), node(down)} & CLUSTER_TASKS
    }
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
        "postgres_extract_hourly": {"extract_postgres"},
        "daily_warehouse_build": {("ingest_files", "check_source_freshness"),
                                  ("check_source_freshness", "build_warehouse")},
        "table_maintenance": {"optimize_and_vacuum"},
    }


def test_on_emr_each_job_is_submit_then_a_deferrable_wait_inside_a_transient_cluster(monkeypatch):
    from lakehouse.orchestration.operators import IdempotentEmrAddStepsOperator, LakehouseEmrStepSensor

    bag = load_dag_bag(monkeypatch, "prod")
    for dag in bag.dags.values():
        create, terminate = dag.get_task("create_cluster"), dag.get_task("terminate_cluster")
        assert create.is_setup, dag.dag_id
        assert terminate.is_teardown, dag.dag_id
        assert terminate.trigger_rule == "all_done_setup_success"  # all done, whatever the outcome
        submits = [t for t in dag.tasks if isinstance(t, IdempotentEmrAddStepsOperator)]
        waits = [t for t in dag.tasks if isinstance(t, LakehouseEmrStepSensor)]
        assert submits, dag.dag_id
        assert len(submits) == len(waits), dag.dag_id
        for submit in submits:
            group = submit.task_id.split(".")[0]
            wait = dag.get_task(f"{group}.wait_for_step")
            assert submit.task_id == f"{group}.submit_step"
            assert submit.downstream_task_ids == {wait.task_id}
            assert create.task_id in submit.upstream_task_ids
            assert wait.deferrable is True
            assert f"ti.xcom_pull(task_ids='{submit.task_id}')[0]" in wait.step_id
            assert terminate.task_id in wait.get_flat_relative_ids(upstream=False)
            assert len(submit.steps) == 1
            assert "Name" not in submit.steps[0]  # named per run on submission


def test_with_an_existing_cluster_id_no_cluster_is_created_or_terminated(monkeypatch):
    bag = load_dag_bag(monkeypatch, "prod", emr__cluster_id="j-1SHAREDCLUSTER")
    for dag in bag.dags.values():
        assert not {t.task_id for t in dag.tasks} & CLUSTER_TASKS, dag.dag_id
        for task in dag.tasks:
            if task.task_id.endswith((".submit_step", ".wait_for_step")):
                assert task.job_flow_id == "j-1SHAREDCLUSTER"


def test_locally_each_job_is_one_spark_submit_of_its_job_file(monkeypatch):
    from lakehouse.orchestration.operators import LocalSparkSubmitOperator

    bag = load_dag_bag(monkeypatch, "local")
    jobs = {}
    for dag in bag.dags.values():
        assert not {t.task_id for t in dag.tasks} & CLUSTER_TASKS
        for task in dag.tasks:
            if isinstance(task, LocalSparkSubmitOperator):
                assert task.task_id.endswith(".spark_submit")
                assert task.command[0] == "spark-submit"
                assert task.job_file in task.command
                jobs[task.task_id] = task.job_file.split("/jobs/")[1]
    assert jobs == {
        "ingest_bronze.spark_submit": "streaming/kafka_to_bronze.py",
        "refine_silver.spark_submit": "streaming/bronze_to_silver.py",
        "extract_postgres.spark_submit": "batch/postgres_extract.py",
        "ingest_files.spark_submit": "batch/files_to_bronze.py",
        "optimize_and_vacuum.spark_submit": "batch/table_maintenance.py",
    }


@pytest.mark.parametrize(("env", "target"), [("local", "local"), ("dev", "dev"), ("prod", "prod")])
def test_the_daily_build_gates_dbt_on_source_freshness_and_has_a_deadline(env, target, monkeypatch):
    bag = load_dag_bag(monkeypatch, env)
    dag = bag.dags["daily_warehouse_build"]
    freshness, build = dag.get_task("check_source_freshness"), dag.get_task("build_warehouse")
    assert freshness.command[:3] == ["dbt", "source", "freshness"]
    assert build.command[:2] == ["dbt", "build"]
    for task in (freshness, build):
        assert task.command[task.command.index("--target") + 1] == target
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
    for group in ("ingest_bronze", "refine_silver"):
        args = dag.get_task(f"{group}.submit_step").steps[0]["HadoopJarStep"]["Args"]
        assert args[-2:] == ["--trigger", "available-now"]
