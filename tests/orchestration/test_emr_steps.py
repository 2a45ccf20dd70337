"""The EMR path of the DAGs against moto's EMR: the cluster requests, the submitted step's arguments,
retries (a failed step is submitted again, a pending, running or completed one is reused), and the
ingest cluster's look-up.

moto keeps a step RUNNING for ever, so the tests move it to COMPLETED or FAILED themselves through
moto's backend objects, as EMR would (from a thread while the operator waits).
"""
from __future__ import annotations

import importlib.metadata
import threading
import time

import pytest

from tests.dags.conftest import load_dag_bag

VERSION = importlib.metadata.version("lakehouse-jobs")
RELEASE = f"s3://company-artifacts/lakehouse/releases/{VERSION}"
REGION = "us-west-2"
RUN_ID = "scheduled__2026-11-25T05:05:00+00:00"


class FakeTaskInstance:
    """What the operators use of a task instance: identity and XCom."""

    def __init__(self, dag_id: str, task_id: str, run_id: str, try_number: int = 1):
        self.dag_id, self.task_id, self.run_id, self.try_number = dag_id, task_id, run_id, try_number
        self.map_index = -1
        self.xcom: dict = {}

    def xcom_push(self, key, value):
        self.xcom[key] = value


def context_for(dag, task, run_id: str = RUN_ID, try_number: int = 1) -> dict:
    ti = FakeTaskInstance(dag.dag_id, task.task_id, run_id, try_number)
    return {"ti": ti, "dag": dag, "task": task, "run_id": run_id}


@pytest.fixture
def aws(monkeypatch):
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_AWS_PROD", raising=False)  # the hook takes the credentials above
    with mock_aws():
        yield


def emr_client():
    import boto3

    return boto3.client("emr", region_name=REGION)


def moto_steps(cluster_id: str) -> list:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.emr.models import emr_backends

    return emr_backends[DEFAULT_ACCOUNT_ID][REGION].clusters[cluster_id].steps


def set_step_state(cluster_id: str, step_id: str, state: str) -> None:
    (step,) = [s for s in moto_steps(cluster_id) if s.id == step_id]
    step.state = state


def end_next_step(cluster_id: str, state: str, known: int) -> threading.Thread:
    """Moves the step submitted after the `known` ones to `state`, as the cluster would, once it exists."""

    def finish():
        deadline = time.monotonic() + 30
        while len(moto_steps(cluster_id)) <= known and time.monotonic() < deadline:
            time.sleep(0.05)
        moto_steps(cluster_id)[known].state = state

    thread = threading.Thread(target=finish, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def extract_dag(monkeypatch, aws):
    """The prod hourly extract DAG, its job task waiting 1 s between polls, and an ingest cluster."""
    dag = load_dag_bag(monkeypatch, "prod", emr__poke_interval_s="1").dags["postgres_extract_hourly"]
    find = dag.get_task("find_ingest_cluster")
    cluster_id = find.execute(context_for(dag, find))
    task = dag.get_task("extract_postgres")
    task.job_flow_id = cluster_id  # what rendering find.output gives at run time
    return dag, task, cluster_id


def run(dag, task, run_id: str = RUN_ID, try_number: int = 1) -> list[str]:
    return task.execute(context_for(dag, task, run_id, try_number))


def test_the_ingest_cluster_is_a_long_running_emr7_spark_cluster_tagged_for_its_environment(extract_dag):
    _, _, cluster_id = extract_dag
    cluster = emr_client().describe_cluster(ClusterId=cluster_id)["Cluster"]
    assert cluster["Name"] == "lakehouse-prod-ingest"
    assert cluster["ReleaseLabel"] == "emr-7.13.0"
    assert [app["Name"] for app in cluster["Applications"]] == ["Spark"]
    assert cluster["ServiceRole"] == "prod-lakehouse-emr-service"
    assert cluster["StepConcurrencyLevel"] == 2
    assert cluster["AutoTerminate"] is False
    tags = {tag["Key"]: tag["Value"] for tag in cluster["Tags"]}
    assert (tags["environment"], tags["lakehouse-cluster"]) == ("prod", "ingest")
    assert emr_client().list_bootstrap_actions(ClusterId=cluster_id)["BootstrapActions"] == []


def test_the_ingest_cluster_is_found_again_and_only_an_active_one_of_this_environment(extract_dag):
    from lakehouse.orchestration.emr import find_cluster

    dag, _, first = extract_dag
    find = dag.get_task("find_ingest_cluster")
    assert find.execute(context_for(dag, find)) == first
    assert len(emr_client().list_clusters()["Clusters"]) == 1
    assert find_cluster(emr_client(), "lakehouse-prod-ingest", "dev", "ingest") is None
    emr_client().terminate_job_flows(JobFlowIds=[first])
    second = find.execute(context_for(dag, find))
    assert second != first
    assert find_cluster(emr_client(), "lakehouse-prod-ingest", "prod", "ingest") == second


def test_the_step_is_submitted_with_the_expected_spark_submit_arguments(extract_dag):
    dag, task, cluster_id = extract_dag
    task.deferrable = False
    end_next_step(cluster_id, "COMPLETED", known=0)
    (step_id,) = run(dag, task)
    (step,) = emr_client().list_steps(ClusterId=cluster_id)["Steps"]
    assert step["Id"] == step_id
    assert step["Name"] == f"postgres_extract_hourly.extract_postgres.{RUN_ID}"
    assert step["ActionOnFailure"] == "CONTINUE"
    assert step["Config"]["Jar"] == "command-runner.jar"
    parent = step["Config"]["Args"][1:7]   # the task instance as the OpenLineage parent run (prod: lineage on)
    assert parent[::2] == ["--conf"] * 3
    assert parent[1] == "spark.openlineage.parentJobNamespace=lakehouse-prod"
    assert parent[3] == "spark.openlineage.parentJobName=postgres_extract_hourly.extract_postgres"
    assert parent[5].startswith("spark.openlineage.parentRunId=")
    assert step["Config"]["Args"] == [
        "spark-submit", *parent,
        "--jars", ",".join([*(f"s3://company-artifacts/lakehouse/jars/{jar}" for jar in (
            "spark-sql-kafka-0-10_2.12-3.5.7.jar", "spark-token-provider-kafka-0-10_2.12-3.5.7.jar",
            "kafka-clients-3.4.1.jar", "commons-pool2-2.11.1.jar", "postgresql-42.7.8.jar", "lakehouse-udf-1.jar",
            "aws-msk-iam-auth-2.2.0-all.jar", "openlineage-spark_2.12-1.25.0.jar")),
            "local:/usr/share/aws/delta/lib/delta-storage-s3-dynamodb.jar"]),
        "--deploy-mode", "cluster",
        "--conf", "spark.yarn.maxAppAttempts=1",
        "--conf", f"spark.yarn.appMasterEnv.AWS_DEFAULT_REGION={REGION}",
        "--archives", f"{RELEASE}/python-deps-cp39-aarch64.tar.gz#pydeps",
        "--conf", "spark.yarn.appMasterEnv.PYTHONPATH=$PWD/pydeps",
        "--conf", "spark.executorEnv.PYTHONPATH=$PWD/pydeps",
        "--py-files", f"{RELEASE}/lakehouse_jobs-{VERSION}-py3-none-any.whl",
        "--files", f"{RELEASE}/conf/base.yaml,{RELEASE}/conf/prod.yaml",
        f"{RELEASE}/jobs/batch/postgres_extract.py",
        "--env", "prod", "--conf-dir", ".", "--mode", "incremental",
    ]


def test_a_retry_after_the_step_failed_submits_it_again_and_then_reuses_the_new_one(extract_dag):
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    dag, task, cluster_id = extract_dag
    task.deferrable = False
    end_next_step(cluster_id, "FAILED", known=0)
    with pytest.raises(AirflowException, match="ended FAILED") as failure:
        run(dag, task, try_number=1)
    assert not isinstance(failure.value, AirflowFailException)  # Airflow's retries apply
    end_next_step(cluster_id, "COMPLETED", known=1)
    (second,) = run(dag, task, try_number=2)
    steps = emr_client().list_steps(ClusterId=cluster_id)["Steps"]
    assert len(steps) == 2
    assert len({s["Name"] for s in steps}) == 1
    assert run(dag, task, try_number=3) == [second]  # completed: reused, not run again
    assert len(emr_client().list_steps(ClusterId=cluster_id)["Steps"]) == 2


@pytest.mark.parametrize("state", ["PENDING", "RUNNING"])
def test_a_retry_while_the_step_is_still_going_waits_for_that_step(extract_dag, state):
    from airflow.sdk.exceptions import TaskDeferred

    dag, task, cluster_id = extract_dag
    with pytest.raises(TaskDeferred) as first:
        run(dag, task, try_number=1)
    (step_id,) = first.value.trigger.serialize()[1]["step_ids"]
    set_step_state(cluster_id, step_id, state)
    with pytest.raises(TaskDeferred) as retry:  # the worker died while deferred: try 2 waits again
        run(dag, task, try_number=2)
    assert retry.value.trigger.serialize()[1]["step_ids"] == [step_id]
    assert len(emr_client().list_steps(ClusterId=cluster_id)["Steps"]) == 1


def test_a_deferred_wait_that_ends_in_failure_fails_retryably_naming_the_step(extract_dag):
    from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred

    dag, task, cluster_id = extract_dag
    with pytest.raises(TaskDeferred) as deferred:
        run(dag, task)
    (step_id,) = deferred.value.trigger.serialize()[1]["step_ids"]
    set_step_state(cluster_id, step_id, "FAILED")
    with pytest.raises(AirflowException, match=f"EMR step {step_id} on {cluster_id} ended FAILED") as failure:
        task.execute_complete(context_for(dag, task), {"status": "failure", "value": [step_id]})
    assert not isinstance(failure.value, AirflowFailException)
    set_step_state(cluster_id, step_id, "COMPLETED")
    assert task.execute_complete(context_for(dag, task), {"status": "success", "value": [step_id]}) == [step_id]


def test_another_run_of_the_dag_gets_its_own_step(extract_dag):
    from airflow.sdk.exceptions import TaskDeferred

    dag, task, cluster_id = extract_dag
    for run_id in (RUN_ID, "scheduled__2026-11-25T06:05:00+00:00"):
        with pytest.raises(TaskDeferred):
            run(dag, task, run_id=run_id)
    assert len({s["Name"] for s in emr_client().list_steps(ClusterId=cluster_id)["Steps"]}) == 2


def test_a_transient_cluster_is_created_for_the_run_and_terminated(monkeypatch, aws):
    dag = load_dag_bag(monkeypatch, "prod").dags["table_maintenance"]
    create = dag.get_task("create_cluster")
    context = context_for(dag, create)
    create.render_template_fields(context)
    cluster_id = create.execute(context)
    cluster = emr_client().describe_cluster(ClusterId=cluster_id)["Cluster"]
    assert cluster["Name"] == f"lakehouse-prod-table_maintenance-{RUN_ID}"
    assert {"Key": "lakehouse-cluster", "Value": "transient"} in cluster["Tags"]
    terminate = dag.get_task("terminate_cluster")
    terminate.job_flow_id = cluster_id
    terminate.deferrable = False  # the deferred wait needs the triggerer; the call is the same
    terminate.execute(context_for(dag, terminate))
    state = emr_client().describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]["State"]
    assert state in ("TERMINATING", "TERMINATED")
