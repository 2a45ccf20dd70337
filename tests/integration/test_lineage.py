"""Lineage of one pipeline run, read from the OpenLineage events file: a Kafka topic -> bronze ->
silver (the streaming jobs as processes, with OpenLineage's Spark listener, started as the local
runner's Airflow tasks start them) -> dbt's staging model (run_dbt, as the demo runs dbt) -> a mart
(the DAGs' DbtOperator). Names must agree across the hops for the graph to connect.
"""
from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import pytest

from lakehouse.kafka.producer import EventProducer
from lakehouse.lineage.client import PARENT_CONF
from lakehouse.lineage.datasets import kafka_dataset, lake_dataset
from lakehouse.orchestration.commands import spark_submit_command
from lakehouse.orchestration.dbt import dbt_command
from lakehouse.orchestration.lineage import with_parent_run
from lakehouse.orchestration.local import local_spark_submit
from lakehouse.orchestration.operators import DbtOperator
from lakehouse.warehouse.dbt_runner import dbt_variables, run_dbt
from tests.conftest import PROJECT_ROOT
from tests.integration.streaming_support import stream_config
from tests.integration.test_job_metrics import transaction

pytestmark = pytest.mark.slow


def run_job(cfg, job: str, overrides: list[str], parent: dict[str, str]) -> None:
    """The job's spark-submit as the local runner's Airflow task starts it, this task as its parent run."""
    job_args = ["--topics", "transaction_events", "--trigger", "available-now",
                *(arg for override in overrides for arg in ("--set", override))]
    command = with_parent_run(spark_submit_command(cfg, job, job_args), parent)
    local_spark_submit(command, str(PROJECT_ROOT)).run(logging.getLogger(job))


def parent_run(dag_task: str) -> dict[str, str]:
    return dict(zip(PARENT_CONF, ("lakehouse-local", dag_task, str(uuid.uuid4()))))


def read_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def graph(events: list[dict]) -> dict[tuple, set[tuple]]:
    """Dataset -> datasets written by a completed run that read it."""
    edges: dict[tuple, set[tuple]] = defaultdict(set)
    for event in events:
        if event["eventType"] != "COMPLETE":
            continue
        for source in event["inputs"]:
            for target in event["outputs"]:
                edges[(source["namespace"], source["name"])].add((target["namespace"], target["name"]))
    return edges


def job_runs(events: list[dict], job: str) -> list[dict]:
    return [e for e in events if e["job"]["name"] == job and e["eventType"] == "COMPLETE"]


@pytest.mark.timeout(600)
def test_one_run_links_the_topic_to_bronze_silver_and_the_marts(tmp_path, new_topic):
    topic = new_topic(partitions=1, prefix="lineage")
    events_file = tmp_path / "lineage" / "events.jsonl"
    overrides = [f"lake.root={tmp_path}/lake", f"lake.checkpoint_root={tmp_path}/checkpoints",
                 f"streaming.topics.transaction_events={topic}", "spark.shuffle_partitions=2",
                 "spark.driver_memory=1g", "lineage.enabled=true", f"lineage.file={events_file}"]
    cfg = stream_config(tmp_path, {"transaction_events": topic}, *overrides[3:])
    with EventProducer(cfg) as producer:
        for number in range(10):
            producer.send(topic, b"7", transaction(number))
        producer.flush()

    bronze_task, silver_task = parent_run("streaming_pipeline.run_bronze"), parent_run("streaming_pipeline.run_silver")
    run_job(cfg, "kafka_to_bronze", overrides, bronze_task)
    run_job(cfg, "bronze_to_silver", overrides, silver_task)
    duckdb, dbt_dir = str(tmp_path / "lakehouse.duckdb"), str(tmp_path / "dbt")
    build = run_dbt(cfg, ["run", "--select", "stg_transactions__transactions"], duckdb_path=duckdb, work_dir=dbt_dir)
    assert build.returncode == 0, build.output[-4000:]
    marts = DbtOperator(task_id="build_marts", command=dbt_command(cfg, ["run", "--select", "fct_transactions"]),
                        project_dir=cfg.airflow.dbt_project_dir, env=dbt_variables(cfg, "local", duckdb, dbt_dir),
                        lineage=cfg)
    marts.execute({"ti": SimpleNamespace(task_id="build_marts", map_index=-1, try_number=1),
                   "dag": SimpleNamespace(dag_id="daily_pipeline"), "run_id": "manual__lineage"})

    events = read_events(events_file)
    warehouse = f"duckdb://{(tmp_path / 'lakehouse.duckdb').resolve()}"
    kafka = tuple(kafka_dataset(cfg.kafka.bootstrap_servers, topic))
    bronze, silver = (tuple(lake_dataset(cfg.lake.table_path(*t))) for t in (("bronze", "transaction_events"),
                                                                              ("silver", "transactions")))
    staging, mart = (warehouse, "lakehouse.staging.stg_transactions__transactions"), \
        (warehouse, "lakehouse.marts.fct_transactions")
    edges = graph(events)
    assert bronze in edges[kafka]
    assert silver in edges[bronze]
    assert staging in edges[silver], "dbt's source is the silver table's lake path"
    assert mart in edges[staging]
    assert {e["job"]["namespace"] for e in events} == {"lakehouse-local"}
    # The Spark listener ran in both jobs and names the tables as the streaming runs do.
    listener = [e for e in events if e["job"]["name"].startswith("lakehouse_")]
    written = {(d["namespace"], d["name"]) for e in listener for d in e["outputs"]}
    read = {(d["namespace"], d["name"]) for e in listener for d in e["inputs"]}
    assert {bronze, silver} <= written
    assert kafka in read
    # Each job's runs name its Airflow task as their parent: the application's run and the streaming query's.
    for task, jobs in ((bronze_task, ("lakehouse_kafka_to_bronze", "kafka_to_bronze.bronze.transaction_events")),
                       (silver_task, ("lakehouse_bronze_to_silver", "bronze_to_silver.silver.transactions"))):
        for job in jobs:
            (run,) = job_runs(events, job)
            assert run["run"]["facets"]["parent"]["run"]["runId"] == task[PARENT_CONF[2]], job
            assert run["run"]["facets"]["parent"]["job"]["name"] == task[PARENT_CONF[1]], job
    (mart_run,) = job_runs(events, "dbt.fct_transactions")
    assert mart_run["run"]["facets"]["parent"]["job"]["name"] == "daily_pipeline.build_marts"
