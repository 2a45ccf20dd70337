"""A release, shipped and run the way production runs it: every DAG with prod's config, every job as
an EMR step that spark-submit runs in YARN cluster mode, every table on S3 (see conftest.py).

The tests run in file order and build on each other, as a release's first day does: the release is
shipped; a silver run without its reference data fails naming it; the streaming DAG creates the
ingest cluster and fills bronze and silver; the hourly extract reuses that cluster; the daily build
lands files on a transient cluster it ends; maintenance compacts what the writers wrote. Then the
harness is shown to bite: a job importing what the release does not ship fails, and so does a
release missing its config file.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest

from lakehouse.orchestration.commands import emr_step, package_version, release_uri, spark_submit_command
from lakehouse.orchestration.python_env import archive_name
from tests.conftest import PROJECT_ROOT, local_config
from tests.dags.conftest import outside_the_daily_gate
from tests.deploy.conftest import (
    ENV,
    airflow_overrides,
    aws_client,
    bucket_of,
    lake_storage,
)
from tests.deploy.standin import python_version

pytestmark = [pytest.mark.slow, pytest.mark.deploy, pytest.mark.timeout(1800)]
JOBS = ("kafka_to_bronze", "bronze_to_silver", "postgres_extract", "files_to_bronze", "table_maintenance")


@pytest.fixture(scope="module")
def emr_cfg(standin):
    """prod's config as Airflow sees it on the stand-in (conftest.airflow_overrides)."""
    from lakehouse.config import load_config
    from tests.conftest import CONF_DIR

    return load_config(ENV, CONF_DIR, environ=airflow_overrides(python_version(standin.python)))


@pytest.fixture(scope="module")
def traffic(sources):
    """Generated traffic for the three topics (valid, duplicated, malformed), acknowledged by Kafka."""
    from lakehouse.generators.publish import publish
    from lakehouse.generators.traffic import TrafficSpec, generate

    local = local_config(*[f"streaming.topics.{contract}={topic}" for contract, topic in sources.topics.items()])
    generated = generate(TrafficSpec(users=50, user_events=300, transactions=120, system_metrics=60, seed=11))
    publish(local, generated)
    return generated


@pytest.fixture(scope="module")
def seeded(sources):
    """users and orders in this run's database, last changed more than prod's safety delay ago."""
    from lakehouse.sourcegen.seed import seed
    from lakehouse.sources.postgres import connect

    local = local_config(f"postgres.database={sources.database}")
    with connect(local.postgres, "deploy-seed", read_only=False) as conn:
        return seed(conn, users=80, orders=400, as_of=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2))


@pytest.fixture(scope="module")
def landed(endpoints, emr_cfg, tmp_path_factory):
    """Airbyte's account files, landed in the lake's raw prefix on S3."""
    from lakehouse.landed.ingest import SOURCES, landed_path
    from lakehouse.sourcegen.salesforce_files import land_account_syncs

    folder = tmp_path_factory.mktemp("landed")
    files = land_account_syncs(str(folder), syncs=2, accounts=12, changed_per_sync=4, seed=3)
    target = landed_path(emr_cfg, SOURCES["salesforce_account"])
    s3 = aws_client(endpoints, "s3")
    for path in files:
        key = f"{target.split('/', 3)[3]}/{path.name}"
        s3.upload_file(str(path), bucket_of(target), key)
    return 12


def delta_rows(endpoints, emr_cfg, layer: str, name: str) -> list[dict]:
    from deltalake import DeltaTable

    table = DeltaTable(emr_cfg.lake.table_path(layer, name), storage_options=lake_storage(endpoints))
    return table.to_pyarrow_table().to_pylist()


def delta_history(endpoints, emr_cfg, layer: str, name: str) -> list[str]:
    from deltalake import DeltaTable

    table = DeltaTable(emr_cfg.lake.table_path(layer, name), storage_options=lake_storage(endpoints))
    return [entry["operation"] for entry in reversed(table.history())]


def run_dag(dags, dag_id: str, **kwargs):
    run = dags[dag_id].test(**kwargs)
    assert run.state == "success", f"{dag_id}: {[(ti.task_id, ti.state) for ti in run.get_task_instances()]}"
    return run


def submit_and_wait(endpoints, cluster_id: str, step: dict, timeout_s: float = 600) -> dict:
    """Adds a step as Airflow would and waits for the stand-in to finish it; returns describe_step's Step."""
    emr = aws_client(endpoints, "emr")
    (step_id,) = emr.add_job_flow_steps(JobFlowId=cluster_id, Steps=[step])["StepIds"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described = emr.describe_step(ClusterId=cluster_id, StepId=step_id)["Step"]
        if described["Status"]["State"] in ("COMPLETED", "FAILED", "CANCELLED"):
            return described
        time.sleep(1)
    raise AssertionError(f"step {step_id} did not finish within {timeout_s}s")


def ingest_cluster(endpoints, emr_cfg) -> str:
    from lakehouse.orchestration.emr import find_cluster, ingest_cluster_name

    found = find_cluster(aws_client(endpoints, "emr"), ingest_cluster_name(emr_cfg), ENV, "ingest")
    assert found, "no ingest cluster is up"
    return found


def test_the_release_holds_every_file_the_steps_reference(release, endpoints, emr_cfg):
    version = package_version()
    keys = set()
    s3 = aws_client(endpoints, "s3")
    for bucket in {bucket_of(emr_cfg.emr.artifacts_uri), bucket_of(emr_cfg.streaming.fx_rates_seed)}:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys |= {f"s3://{bucket}/{obj['Key']}" for obj in page.get("Contents", [])}
    referenced = {emr_cfg.streaming.fx_rates_seed}
    for job in JOBS:
        for arg in spark_submit_command(emr_cfg, job):
            referenced |= {uri.split("#")[0] for uri in arg.split(",") if uri.startswith("s3://")}
    assert referenced - keys == set()
    assert f"{release_uri(emr_cfg)}/{archive_name(emr_cfg)}" in keys
    assert archive_name(emr_cfg) == f"python-deps-cp{emr_cfg.emr.python_version.replace('.', '')}-x86_64.tar.gz"
    assert release.stdout.startswith(f"release {release_uri(emr_cfg, version)} (")


def test_a_silver_run_without_its_reference_data_fails_naming_it(release, command_runner, endpoints, emr_cfg,
                                                                  airflow_prod):
    """Before anything seeded reference.fx_rates: the seed file missing from S3 fails the job, by name."""
    from lakehouse.orchestration.emr import ingest_cluster_name, job_flow_overrides

    s3 = aws_client(endpoints, "s3")
    bucket, key = bucket_of(emr_cfg.streaming.fx_rates_seed), emr_cfg.streaming.fx_rates_seed.split("/", 3)[3]
    kept = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.delete_object(Bucket=bucket, Key=key)
    try:
        cluster = aws_client(endpoints, "emr").run_job_flow(
            **job_flow_overrides(emr_cfg, ingest_cluster_name(emr_cfg), "ingest"))["JobFlowId"]
        silver = emr_step(emr_cfg, "bronze_to_silver", ["--trigger", "available-now"])
        step = submit_and_wait(endpoints, cluster, {**silver, "Name": "silver-without-reference"})
    finally:
        s3.put_object(Bucket=bucket, Key=key, Body=kept)
    assert step["Status"]["State"] == "FAILED"
    (captured,) = [s for s in command_runner.captured if s.step_id == step["Id"]]
    assert f"streaming.fx_rates_seed: {emr_cfg.streaming.fx_rates_seed} does not exist" in captured.driver_log


@pytest.fixture(scope="module")
def streaming_run(airflow_prod, release, command_runner, traffic):
    started = len(command_runner.captured)
    run_dag(airflow_prod, "streaming_pipeline")
    return command_runner.captured[started:]


def test_the_streaming_dag_runs_its_jobs_as_the_exact_steps_airflow_built(streaming_run, emr_cfg, endpoints):
    assert [step.job() for step in streaming_run] == ["kafka_to_bronze", "bronze_to_silver"]
    assert [step.state for step in streaming_run] == ["COMPLETED", "COMPLETED"], streaming_run[-1].driver_log[-3000:]
    for step, job in zip(streaming_run, ("kafka_to_bronze", "bronze_to_silver")):
        assert step.jar == "command-runner.jar"
        assert step.args == emr_step(emr_cfg, job, ["--trigger", "available-now"])["HadoopJarStep"]["Args"]
        assert step.name.startswith("streaming_pipeline.")
    assert {step.cluster_id for step in streaming_run} == {ingest_cluster(endpoints, emr_cfg)}


def test_streaming_fills_bronze_and_silver_on_s3_with_every_record_once(streaming_run, traffic, emr_cfg, endpoints):
    truth, records = traffic.truth, traffic.records
    for contract in ("user_events", "transaction_events", "system_metrics"):
        sent = sum(1 for record in records if record.contract == contract)
        assert len(delta_rows(endpoints, emr_cfg, "bronze", contract)) == sent, contract
    events = [row["event_id"] for row in delta_rows(endpoints, emr_cfg, "silver", "user_events")]
    assert sorted(events) == sorted(truth.event_ids)
    silver_transactions = delta_rows(endpoints, emr_cfg, "silver", "transactions")
    transactions = {row["transaction_id"]: row["status"] for row in silver_transactions}
    assert transactions == {tid: status for tid, (_, status) in truth.transactions.items()}
    assert len(delta_rows(endpoints, emr_cfg, "silver", "system_metrics")) == len(truth.metric_keys)
    quarantined = sum(len(delta_rows(endpoints, emr_cfg, "quarantine", contract)) for contract in truth.malformed)
    assert quarantined == sum(truth.malformed.values())


@pytest.fixture(scope="module")
def extract_run(airflow_prod, streaming_run, command_runner, seeded):
    """An hourly run outside the reconcile's hour: the extract alone."""
    started = len(command_runner.captured)
    dag = airflow_prod["postgres_extract_hourly"]
    run = run_dag(airflow_prod, dag.dag_id, logical_date=outside_the_daily_gate(dag, "check_reconcile_due"))
    return run, command_runner.captured[started:]


def test_the_hourly_extract_reuses_the_ingest_cluster_and_lands_every_row(extract_run, streaming_run, seeded, emr_cfg,
                                                                          endpoints):
    run, steps = extract_run
    assert {ti.task_id: ti.state for ti in run.get_task_instances()}["reconcile_postgres"] == "skipped"
    (step,) = steps
    assert step.state == "COMPLETED", step.driver_log[-3000:]
    assert step.args == emr_step(emr_cfg, "postgres_extract", ["--mode", "incremental"])["HadoopJarStep"]["Args"]
    assert step.cluster_id == streaming_run[0].cluster_id
    assert len(delta_rows(endpoints, emr_cfg, "silver", "users")) == seeded["users"]
    assert len(delta_rows(endpoints, emr_cfg, "silver", "orders")) == seeded["orders"]


@pytest.fixture(scope="module")
def daily_run(airflow_prod, extract_run, command_runner, landed):
    started = len(command_runner.captured)
    # dbt's tasks talk to Snowflake, whose external tables over S3 no emulator serves: marked done here
    # (their SQL is checked against fakesnow in tests/integration and tests/unit).
    run = run_dag(airflow_prod, "daily_warehouse_build",
                  mark_success_pattern=r"refresh_external_tables|check_source_freshness|build_warehouse")
    return run, command_runner.captured[started:]


def test_the_daily_build_lands_files_on_a_transient_cluster_it_ends(daily_run, extract_run, landed, emr_cfg, endpoints):
    _run, steps = daily_run
    _extract, extract_steps = extract_run
    (step,) = steps
    assert step.state == "COMPLETED", step.driver_log[-3000:]
    assert step.cluster_id != extract_steps[0].cluster_id
    cluster = aws_client(endpoints, "emr").describe_cluster(ClusterId=step.cluster_id)["Cluster"]
    assert cluster["Status"]["State"] in ("TERMINATING", "TERMINATED")
    assert {"Key": "lakehouse-cluster", "Value": "transient"} in cluster["Tags"]
    assert len(delta_rows(endpoints, emr_cfg, "silver", "accounts")) == landed


@pytest.fixture(scope="module")
def maintenance_run(airflow_prod, daily_run, command_runner):
    started = len(command_runner.captured)
    run_dag(airflow_prod, "table_maintenance")
    return command_runner.captured[started:]


def test_maintenance_compacts_each_writers_tables_in_its_own_step(maintenance_run, emr_cfg, endpoints):
    assert sorted(step.name.split(".")[1] for step in maintenance_run) == [
        "maintain_extract_tables", "maintain_landed_files_tables", "maintain_streaming_tables"]
    assert all(step.state == "COMPLETED" for step in maintenance_run), [s.driver_log[-2000:] for s in maintenance_run]
    driver_logs = "\n".join(step.driver_log for step in maintenance_run)
    for table in emr_cfg.maintenance.tables:
        layer, name = table.split(".")
        assert "OPTIMIZE" in delta_history(endpoints, emr_cfg, layer, name), table
        # VACUUM commits nothing to the log with Delta's default S3 log store (prod's DynamoDB one would).
        assert re.search(rf"^{re.escape(table)}: OPTIMIZE.*; VACUUM .*files deleted", driver_logs, re.M), table


def test_a_job_importing_what_the_release_does_not_ship_fails(maintenance_run, command_runner, endpoints, emr_cfg,
                                                            tmp_path):
    """orjson is in the development environment but not in requirements/cluster.txt: on the cluster it is absent."""
    probe = tmp_path / "imports_orjson.py"
    probe.write_text("import lakehouse.config\nimport yaml, psycopg, confluent_kafka, boto3, delta\nimport orjson\n")
    uri = f"{release_uri(emr_cfg)}/jobs/probe/{probe.name}"
    aws_client(endpoints, "s3").upload_file(str(probe), bucket_of(uri), uri.split("/", 3)[3])
    args = emr_step(emr_cfg, "table_maintenance")["HadoopJarStep"]["Args"]
    job = next(i for i, arg in enumerate(args) if arg.endswith("table_maintenance.py"))
    step = submit_and_wait(endpoints, ingest_cluster(endpoints, emr_cfg), {
        "Name": "probe-imports", "ActionOnFailure": "CONTINUE",
        "HadoopJarStep": {"Jar": "command-runner.jar", "Args": [*args[:job], uri]}})
    assert step["Status"]["State"] == "FAILED"
    (captured,) = [s for s in command_runner.captured if s.step_id == step["Id"]]
    assert "No module named 'orjson'" in captured.driver_log
    assert "No module named 'yaml'" not in captured.driver_log


def test_a_release_without_its_config_file_fails_naming_it(maintenance_run, command_runner, endpoints, emr_cfg):
    s3 = aws_client(endpoints, "s3")
    uri = f"{release_uri(emr_cfg)}/conf/{ENV}.yaml"
    bucket, key = bucket_of(uri), uri.split("/", 3)[3]
    kept = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.delete_object(Bucket=bucket, Key=key)
    try:
        step = submit_and_wait(endpoints, ingest_cluster(endpoints, emr_cfg),
                               {"Name": "missing-config", **emr_step(emr_cfg, "table_maintenance")})
    finally:
        s3.put_object(Bucket=bucket, Key=key, Body=kept)
    assert step["Status"]["State"] == "FAILED"
    (captured,) = [s for s in command_runner.captured if s.step_id == step["Id"]]
    assert f"conf/{ENV}.yaml" in captured.output + captured.driver_log
    assert "FileNotFoundException" in captured.output + captured.driver_log


def test_every_captured_step_ran_on_python_39_without_the_development_environment(maintenance_run, command_runner,
                                                                                   standin):
    assert python_version(standin.python) == "3.9"
    assert not list(Path(standin.python).parent.parent.glob("lib/python*/site-packages/*.dist-info"))
    completed = [s for s in command_runner.captured if s.state == "COMPLETED"]
    assert {s.job() for s in completed} == set(JOBS)
    assert all(str(PROJECT_ROOT) not in " ".join(s.args) for s in command_runner.captured)
