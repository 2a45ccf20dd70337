"""Lineage settings and names without Spark: the listener's properties per environment, dataset names,
dbt's events from its artifacts, and the Airflow task as the parent run of a spark-submit."""
from __future__ import annotations

from types import SimpleNamespace

from lakehouse.config import load_config
from lakehouse.lineage.datasets import DatasetName, kafka_dataset, lake_dataset
from lakehouse.lineage.dbt import dbt_run_events
from lakehouse.orchestration.lineage import task_parent_run, with_parent_run
from lakehouse.spark.session import LINEAGE_LISTENER, spark_conf, with_lineage_auth
from tests.conftest import CONF_DIR, PROJECT_ROOT, local_config

LISTENER = "spark.extraListeners"


def test_the_listener_is_off_unless_enabled_and_writes_to_the_configured_file_locally():
    assert LISTENER not in spark_conf(local_config())
    conf = spark_conf(local_config("lineage.enabled=true"))
    assert conf[LISTENER] == LINEAGE_LISTENER
    assert conf["spark.openlineage.namespace"] == "lakehouse-local"
    assert conf["spark.openlineage.transport.type"] == "file"
    assert conf["spark.openlineage.transport.location"] == str(PROJECT_ROOT / ".local/lineage/events.jsonl")


def test_without_the_listeners_jar_lineage_is_left_out_rather_than_failing_the_job():
    conf = spark_conf(local_config("lineage.enabled=true", "spark.jars_dir=null"))
    assert LISTENER not in conf
    assert not any(key.startswith("spark.openlineage") for key in conf)


def test_prod_sends_to_its_marquez_and_resolves_the_api_key_only_when_the_session_starts(monkeypatch):
    cfg = load_config("prod", CONF_DIR, ["lineage.api_key=env:OL_KEY"], environ={})
    conf = spark_conf(cfg)
    assert conf[LISTENER] == LINEAGE_LISTENER
    assert "openlineage-spark_2.12-1.25.0.jar" in conf["spark.jars"]
    assert "lakehouse-udf-1.jar" in conf["spark.jars"], "the filtering listener's jar"
    assert conf["spark.openlineage.transport.type"] == "http"
    assert conf["spark.openlineage.transport.url"] == "https://marquez.prod.internal:5000"
    assert not any("apiKey" in key for key in conf)
    monkeypatch.setenv("OL_KEY", "k-123")
    assert with_lineage_auth(cfg, conf)["spark.openlineage.transport.auth.apiKey"] == "k-123"
    monkeypatch.delenv("OL_KEY")
    assert LISTENER not in with_lineage_auth(cfg, conf), "a missing key drops the listener, not the job"


def test_datasets_are_named_as_the_spark_listener_names_them():
    assert lake_dataset("/lake/silver/orders/") == DatasetName("file", "/lake/silver/orders")
    assert lake_dataset("file:/lake/silver/orders") == DatasetName("file", "/lake/silver/orders")
    assert lake_dataset("s3a://bucket/lakehouse/silver/orders") == DatasetName("s3://bucket", "lakehouse/silver/orders")
    assert lake_dataset("s3://bucket/lakehouse/silver/orders") == DatasetName("s3://bucket", "lakehouse/silver/orders")
    assert kafka_dataset("b-1:9094,b-2:9094", "user_events") == DatasetName("kafka://b-1:9094", "user_events")


MANIFEST = {
    "sources": {"source.p.transactions.transactions": {
        "name": "transactions", "database": "RAW", "schema": "kafka_streams", "identifier": "transactions",
        "meta": {"plugin": "delta", "delta_table_path": "s3a://lake/lakehouse/silver/transactions"}}},
    "nodes": {
        "model.p.stg": {"name": "stg", "database": "ANALYTICS", "schema": "staging", "alias": "stg",
                        "depends_on": {"nodes": ["source.p.transactions.transactions"]}},
        "model.p.fct": {"name": "fct", "database": "ANALYTICS", "schema": "marts", "alias": "fct_x",
                        "depends_on": {"nodes": ["model.p.stg"]}},
        "test.p.not_null": {"name": "not_null", "depends_on": {"nodes": ["model.p.fct"]}},
    },
}


def test_dbt_events_read_delta_sources_by_lake_path_and_models_by_relation():
    results = {"results": [{"unique_id": "model.p.stg", "status": "success"},
                           {"unique_id": "model.p.fct", "status": "error", "message": "boom"},
                           {"unique_id": "test.p.not_null", "status": "pass"}]}
    events = list(dbt_run_events(MANIFEST, results, "lakehouse-prod", "snowflake://acme"))
    assert [(e.eventType.value, e.job.name) for e in events] == [
        ("START", "dbt.stg"), ("COMPLETE", "dbt.stg"), ("START", "dbt.fct"), ("FAIL", "dbt.fct")]
    stg, fct = events[1], events[3]
    assert [(d.namespace, d.name) for d in stg.inputs] == [("s3://lake", "lakehouse/silver/transactions")]
    assert [(d.namespace, d.name) for d in stg.outputs] == [("snowflake://acme", "analytics.staging.stg")]
    assert [(d.namespace, d.name) for d in fct.inputs] == [("snowflake://acme", "analytics.staging.stg")]
    assert fct.outputs[0].name == "analytics.marts.fct_x"
    assert fct.run.facets["errorMessage"].message == "boom"


def airflow_context(try_number: int = 1) -> dict:
    ti = SimpleNamespace(task_id="run_bronze", map_index=-1, try_number=try_number)
    return {"ti": ti, "dag": SimpleNamespace(dag_id="streaming_pipeline"), "run_id": "scheduled__2026-12-01"}


def test_the_task_instance_is_the_parent_run_of_its_spark_submit():
    parent = task_parent_run("lakehouse-prod", airflow_context())
    assert parent == task_parent_run("lakehouse-prod", airflow_context()), "stable within one try"
    assert parent != task_parent_run("lakehouse-prod", airflow_context(try_number=2))
    command = with_parent_run(["spark-submit", "--jars", "a.jar", "job.py"], parent)
    assert command[:7] == [
        "spark-submit",
        "--conf", "spark.openlineage.parentJobNamespace=lakehouse-prod",
        "--conf", "spark.openlineage.parentJobName=streaming_pipeline.run_bronze",
        "--conf", f"spark.openlineage.parentRunId={parent['spark.openlineage.parentRunId']}",
    ]
    assert command[7:] == ["--jars", "a.jar", "job.py"]
    assert with_parent_run(command, parent) == command, "a parent already named is kept"
    assert task_parent_run(None, airflow_context()) == {}, "lineage off: no parent"
