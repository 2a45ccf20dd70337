"""The EMR path of the DAGs against moto's EMR: the cluster request, the submitted step's arguments,
retries that reuse the step, and the sensor on completed and failed steps.

moto keeps a step RUNNING for ever, so the tests move it to COMPLETED or FAILED themselves
through moto's backend objects, as EMR would.
"""
from __future__ import annotations

import importlib.metadata

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
    with mock_aws():
        yield


@pytest.fixture
def extract_dag(monkeypatch, aws):
    """The prod hourly extract DAG (transient cluster) with a cluster created by its own create task."""
    dag = load_dag_bag(monkeypatch, "prod").dags["postgres_extract_hourly"]
    create = dag.get_task("create_cluster")
    context = context_for(dag, create)
    create.render_template_fields(context)
    cluster_id = create.execute(context)
    for task_id in ("extract_postgres.submit_step", "extract_postgres.wait_for_step", "terminate_cluster"):
        dag.get_task(task_id).job_flow_id = cluster_id  # what rendering create.output gives at run time
    return dag, cluster_id


def emr_client():
    import boto3

    return boto3.client("emr", region_name=REGION)


def set_step_state(cluster_id: str, step_id: str, state: str) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.emr.models import emr_backends

    steps = emr_backends[DEFAULT_ACCOUNT_ID][REGION].clusters[cluster_id].steps
    (step,) = [s for s in steps if s.id == step_id]
    step.state = state


def submit(dag, run_id: str = RUN_ID, try_number: int = 1) -> list[str]:
    task = dag.get_task("extract_postgres.submit_step")
    return task.execute(context_for(dag, task, run_id, try_number))


def test_the_transient_cluster_is_an_emr7_spark_cluster_named_after_the_run(extract_dag):
    _, cluster_id = extract_dag
    cluster = emr_client().describe_cluster(ClusterId=cluster_id)["Cluster"]
    assert cluster["Name"] == f"lakehouse-prod-postgres_extract_hourly-{RUN_ID}"
    assert cluster["ReleaseLabel"] == "emr-7.13.0"
    assert [app["Name"] for app in cluster["Applications"]] == ["Spark"]
    assert cluster["ServiceRole"] == "prod-lakehouse-emr-service"
    assert cluster["StepConcurrencyLevel"] == 1
    assert {"Key": "environment", "Value": "prod"} in cluster["Tags"]
    actions = emr_client().list_bootstrap_actions(ClusterId=cluster_id)["BootstrapActions"]
    assert [a["ScriptPath"] for a in actions] == [f"{RELEASE}/bootstrap/install-python-deps.sh"]


def test_the_step_is_submitted_with_the_expected_spark_submit_arguments(extract_dag):
    dag, cluster_id = extract_dag
    (step_id,) = submit(dag)
    steps = emr_client().list_steps(ClusterId=cluster_id)["Steps"]
    assert [s["Id"] for s in steps] == [step_id]
    step = steps[0]
    assert step["Name"] == f"postgres_extract_hourly.extract_postgres.submit_step.{RUN_ID}"
    assert step["ActionOnFailure"] == "CONTINUE"
    assert step["Config"]["Jar"] == "command-runner.jar"
    assert step["Config"]["Args"] == [
        "spark-submit",
        "--jars", ",".join(f"s3://company-artifacts/lakehouse/jars/{jar}" for jar in (
            "spark-sql-kafka-0-10_2.12-3.5.7.jar", "spark-token-provider-kafka-0-10_2.12-3.5.7.jar",
            "kafka-clients-3.4.1.jar", "commons-pool2-2.11.1.jar", "postgresql-42.7.8.jar", "lakehouse-udf-1.jar")),
        "--deploy-mode", "cluster",
        "--py-files", f"{RELEASE}/lakehouse_jobs-{VERSION}-py3-none-any.whl",
        "--files", f"{RELEASE}/conf/base.yaml,{RELEASE}/conf/prod.yaml",
        f"{RELEASE}/jobs/batch/postgres_extract.py",
        "--env", "prod", "--conf-dir", ".", "--mode", "incremental",
    ]


@pytest.mark.parametrize("state", ["PENDING", "RUNNING", "COMPLETED"])
def test_a_retried_submit_reuses_the_step_instead_of_adding_a_second(extract_dag, state):
    dag, cluster_id = extract_dag
    first = submit(dag, try_number=1)
    set_step_state(cluster_id, first[0], state)
    second = submit(dag, try_number=2)
    assert second == first
    assert len(emr_client().list_steps(ClusterId=cluster_id)["Steps"]) == 1


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED", "INTERRUPTED"])
def test_a_submit_after_the_step_failed_submits_it_again(extract_dag, state):
    dag, cluster_id = extract_dag
    (first,) = submit(dag, try_number=1)
    set_step_state(cluster_id, first, state)
    (second,) = submit(dag, try_number=2)
    assert second != first
    steps = emr_client().list_steps(ClusterId=cluster_id)["Steps"]
    assert sorted(s["Id"] for s in steps) == sorted([first, second])
    assert len({s["Name"] for s in steps}) == 1
    assert submit(dag, try_number=3) == [second]  # and the new one is reused from then on


def test_another_run_of_the_dag_gets_its_own_step(extract_dag):
    dag, cluster_id = extract_dag
    (today,) = submit(dag, run_id=RUN_ID)
    (next_hour,) = submit(dag, run_id="scheduled__2026-11-25T06:05:00+00:00")
    assert today != next_hour
    assert len(emr_client().list_steps(ClusterId=cluster_id)["Steps"]) == 2


def test_the_sensor_waits_while_running_and_succeeds_when_completed(extract_dag):
    dag, cluster_id = extract_dag
    (step_id,) = submit(dag)
    sensor = dag.get_task("extract_postgres.wait_for_step")
    sensor.step_id = step_id
    context = context_for(dag, sensor)
    assert sensor.poke(context) is False
    set_step_state(cluster_id, step_id, "COMPLETED")
    assert sensor.poke(context) is True


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_the_sensor_fails_for_good_when_the_step_failed(extract_dag, state):
    from airflow.sdk.exceptions import AirflowFailException

    dag, cluster_id = extract_dag
    (step_id,) = submit(dag)
    sensor = dag.get_task("extract_postgres.wait_for_step")
    sensor.step_id = step_id
    set_step_state(cluster_id, step_id, state)
    with pytest.raises(AirflowFailException, match="EMR job failed"):
        sensor.poke(context_for(dag, sensor))


def test_the_deferred_sensor_fails_for_good_on_a_failed_step_and_passes_on_success(extract_dag):
    from airflow.sdk.exceptions import AirflowFailException

    dag, cluster_id = extract_dag
    (step_id,) = submit(dag)
    sensor = dag.get_task("extract_postgres.wait_for_step")
    assert sensor.deferrable is True
    sensor.step_id = step_id
    context = context_for(dag, sensor)
    set_step_state(cluster_id, step_id, "FAILED")
    with pytest.raises(AirflowFailException, match="ended FAILED"):
        sensor.execute_complete(context, {"status": "failure", "message": "step failed"})
    set_step_state(cluster_id, step_id, "COMPLETED")
    assert sensor.execute_complete(context, {"status": "success"}) is None


def test_terminate_ends_the_transient_cluster(extract_dag):
    dag, cluster_id = extract_dag
    terminate = dag.get_task("terminate_cluster")
    terminate.deferrable = False  # the deferred wait needs the triggerer; the call is the same
    terminate.execute(context_for(dag, terminate))
    state = emr_client().describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]["State"]
    assert state in ("TERMINATING", "TERMINATED")
