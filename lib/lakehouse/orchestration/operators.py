"""Airflow operators for the lakehouse jobs: an EMR step that is retry-safe, the ingest cluster's
look-up, and the local runner's spark-submit and dbt tasks. Imported by the DAGs only (needs Airflow).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from airflow.providers.amazon.aws.hooks.emr import EmrHook
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.operators.emr import EmrAddStepsOperator
from airflow.providers.amazon.aws.triggers.emr import EmrAddStepsTrigger
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from botocore.exceptions import WaiterError

from lakehouse.config import Config
from lakehouse.lineage.client import lineage_client
from lakehouse.lineage.dbt import emit_dbt_lineage
from lakehouse.ops.dbt_quality import record_dbt_results
from lakehouse.orchestration.commands import step_name
from lakehouse.orchestration.dbt import dbt_process
from lakehouse.orchestration.emr import find_cluster, find_reusable_steps
from lakehouse.orchestration.lineage import task_parent_run, with_parent_run
from lakehouse.orchestration.local import LocalJobError, LoggedProcess, local_spark_submit
from lakehouse.warehouse.dbt_runner import warehouse_namespace


def task_step_name(context: Any, task_id: str) -> str:
    """The deterministic name of one task instance's step (its retries get the same name)."""
    ti = context["ti"]
    key = task_id if getattr(ti, "map_index", -1) in (-1, None) else f"{task_id}[{ti.map_index}]"
    return step_name(context["dag"].dag_id, key, context["run_id"])


class LakehouseEmrStepOperator(EmrAddStepsOperator):
    """Runs one job as an EMR step and waits for it: submits it, or reuses the step of this task.

    The step is named after the DAG run and task. A run of the task first looks for a step of
    that name that is pending, running or completed on the cluster and waits for it instead of
    adding another; a failed or cancelled one is never reused. So an Airflow retry of a job whose
    step FAILED submits it again, and a retry after a lost API response or a killed worker never
    runs a job twice. The wait runs in the triggerer when deferrable. Returns the step id.

    With `lineage_namespace` (lineage.namespace when lineage is enabled), the step's spark-submit
    names this task instance as its OpenLineage parent run (lakehouse.orchestration.lineage).
    """

    def __init__(self, *, step: dict, lineage_namespace: Optional[str] = None, **kwargs):
        super().__init__(steps=[step], wait_for_completion=False, **kwargs)  # it waits itself (below)
        self.lineage_namespace = lineage_namespace

    def execute(self, context: Any) -> list[str]:
        if not self.job_flow_id:
            raise AirflowFailException(f"{self.task_id}: job_flow_id is required (a cluster id or task output)")
        name = task_step_name(context, self.task_id)
        step_id = find_reusable_steps(self.hook.conn, self.job_flow_id, [name]).get(name)
        if step_id is None:
            parent = task_parent_run(self.lineage_namespace, context)
            self.steps = [_with_parent_run({**step, "Name": name}, parent) for step in self.steps]
            (step_id,) = super().execute(context)  # submits; when deferrable, defers from there
        else:
            self.log.info("step %s already submitted as %s on %s: waiting for it", name, step_id, self.job_flow_id)
            if self.do_xcom_push:
                context["ti"].xcom_push(key="job_flow_id", value=self.job_flow_id)
            if self.deferrable:
                self.defer(
                    trigger=EmrAddStepsTrigger(
                        job_flow_id=self.job_flow_id, step_ids=[step_id], aws_conn_id=self.aws_conn_id,
                        region_name=self.region_name, waiter_max_attempts=self.waiter_max_attempts,
                        waiter_delay=self.waiter_delay,
                    ),
                    method_name="execute_complete",
                )
        try:
            self.hook.get_waiter("step_complete").wait(
                ClusterId=self.job_flow_id, StepId=step_id,
                WaiterConfig={"Delay": self.waiter_delay, "MaxAttempts": self.waiter_max_attempts},
            )
        except WaiterError as exc:
            raise AirflowException(self._failure(step_id, exc)) from exc
        return [step_id]

    def execute_complete(self, context: Any, event: Optional[dict] = None) -> list[str]:
        if event and event.get("status") != "success":
            step_ids = event.get("value") or []
            raise AirflowException("; ".join(self._failure(step_id, event) for step_id in step_ids) or str(event))
        return super().execute_complete(context, event)

    def _failure(self, step_id: str, cause: Any) -> str:
        status = self.hook.conn.describe_step(ClusterId=self.job_flow_id, StepId=step_id)["Step"]["Status"]
        details = {**(status.get("StateChangeReason") or {}), **(status.get("FailureDetails") or {})}
        parts = [f"EMR step {step_id} on {self.job_flow_id} ended {status['State']}"]
        parts += [f"{key}: {details[key]}" for key in ("Reason", "Message", "LogFile") if details.get(key)]
        return "; ".join(parts) if len(parts) > 1 else f"{parts[0]} ({cause})"


class IngestClusterOperator(AwsBaseOperator[EmrHook]):
    """Returns the id of the environment's long-running ingest cluster, creating it when none is up.

    The look-up is by name and tags (lakehouse.orchestration.emr.find_cluster). Run it in
    a one-slot pool so that two DAGs never create a cluster each.
    """

    aws_hook_class = EmrHook
    template_fields: Sequence[str] = aws_template_fields("job_flow_overrides")

    def __init__(self, *, environment: str, job_flow_overrides: dict, **kwargs):
        super().__init__(**kwargs)
        self.environment = environment
        self.job_flow_overrides = job_flow_overrides

    def execute(self, context: Any) -> str:
        name = self.job_flow_overrides["Name"]
        found = find_cluster(self.hook.conn, name, self.environment, "ingest")
        if found:
            self.log.info("ingest cluster %s is %s", name, found)
            return found
        cluster_id = self.hook.conn.run_job_flow(**self.job_flow_overrides)["JobFlowId"]
        self.log.info("no ingest cluster %s was up: created %s", name, cluster_id)
        return cluster_id


class LocalSparkSubmitOperator(BaseOperator):
    """Runs a job's spark-submit command on this machine (`emr.runner: local`).

    Args:
        command: a lakehouse.orchestration.commands.spark_submit_command (templated).
        job_file: the job's file, checked before starting so a missing job fails clearly.
        cwd: the working directory (the project root).
        lineage_namespace: lineage.namespace when lineage is enabled: the task becomes the
            OpenLineage parent run of the job (lakehouse.orchestration.lineage).
    """

    template_fields: Sequence[str] = ("command",)
    ui_color = "#e8f0fe"

    def __init__(self, *, command: Sequence[str], job_file: str, cwd: str, lineage_namespace: Optional[str] = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.command = list(command)
        self.job_file = job_file
        self.cwd = cwd
        self.lineage_namespace = lineage_namespace
        self._process: Optional[LoggedProcess] = None

    def execute(self, context: Any) -> None:
        if not Path(self.job_file).is_file():
            raise AirflowFailException(f"job file {self.job_file} does not exist")
        command = with_parent_run(self.command, task_parent_run(self.lineage_namespace, context))
        self._process = local_spark_submit(command, self.cwd)
        _run(self._process, self.log)

    def on_kill(self) -> None:
        if self._process is not None:
            self._process.kill()


class DbtOperator(BaseOperator):
    """Runs one dbt command (lakehouse.orchestration.dbt.dbt_command) from the project folder.

    dbt's exit status is the verdict: a failed test or a stale source fails the task. After a build
    or test, passed or not, its tests' results are appended to ops.quality_results when
    `quality_results` (lakehouse.ops.dbt_quality.dbt_results_target) is given. With `lineage` (the
    config, when lineage is enabled) the models dbt built are reported to OpenLineage afterwards,
    this task instance as their parent run (lakehouse.lineage.dbt).
    """

    template_fields: Sequence[str] = ("command",)
    ui_color = "#ffe7d6"

    def __init__(self, *, command: Sequence[str], project_dir: str, env: dict[str, str],
                 quality_results: Optional[dict] = None, lineage: Optional[Config] = None, **kwargs):
        super().__init__(**kwargs)
        self.command = list(command)
        self.project_dir = project_dir
        self.env = dict(env)
        self.quality_results = quality_results
        self.lineage = lineage
        self._process: Optional[LoggedProcess] = None

    def execute(self, context: Any) -> None:
        self._process = dbt_process(self.command, self.project_dir, self.env)
        target_dir = Path(self.project_dir, self._process.env.get("DBT_TARGET_PATH", "target"))
        (target_dir / "run_results.json").unlink(missing_ok=True)   # never report a previous command's
        try:
            _run(self._process, self.log)
        finally:
            if self.quality_results is not None and self.command[1:2] in (["build"], ["test"]):
                self._record_quality(target_dir)
            if self.lineage is not None:
                cfg = self.lineage
                emit_dbt_lineage(lineage_client(cfg), target_dir, cfg.lineage.namespace,
                                 warehouse_namespace(self._process.env),
                                 task_parent_run(cfg.lineage.namespace, context))

    def _record_quality(self, target_dir: Path) -> None:
        if not (target_dir / "run_results.json").is_file():
            self.log.warning("dbt wrote no run_results.json in %s: no quality results to record", target_dir)
            return
        try:
            recorded = record_dbt_results(self.quality_results, target_dir)
        except Exception:  # the build's verdict stands; a lost record is logged, not raised
            self.log.exception("could not append dbt's test results to %s", self.quality_results["uri"])
        else:
            self.log.info("recorded %d dbt test results in %s", recorded, self.quality_results["uri"])

    def on_kill(self) -> None:
        if self._process is not None:
            self._process.kill()


def _with_parent_run(step: dict, parent: dict[str, str]) -> dict:
    """The EMR step with the parent run's properties in its spark-submit arguments."""
    jar_step = step["HadoopJarStep"]
    return {**step, "HadoopJarStep": {**jar_step, "Args": with_parent_run(jar_step["Args"], parent)}}


def _run(process: LoggedProcess, log) -> None:
    try:
        process.run(log)
    except LocalJobError as exc:
        raise AirflowException(str(exc)) from exc
