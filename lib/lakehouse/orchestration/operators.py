"""Airflow operators for the lakehouse jobs: the Amazon provider's EMR operators made retry-safe,
and the local runner's spark-submit and dbt tasks. Imported by the DAGs only (needs Airflow).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from airflow.providers.amazon.aws.operators.emr import EmrAddStepsOperator
from airflow.providers.amazon.aws.sensors.emr import EmrStepSensor
from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from lakehouse.orchestration.commands import step_name
from lakehouse.orchestration.dbt import dbt_process
from lakehouse.orchestration.emr import find_reusable_steps
from lakehouse.orchestration.local import LocalJobError, LoggedProcess, local_spark_submit


def task_step_names(context: Any, task_id: str, count: int) -> list[str]:
    """Deterministic names for the `count` steps of one task instance (retries get the same names)."""
    ti = context["ti"]
    key = task_id if getattr(ti, "map_index", -1) in (-1, None) else f"{task_id}[{ti.map_index}]"
    base = step_name(context["dag"].dag_id, key, context["run_id"])
    return [base] if count == 1 else [step_name(context["dag"].dag_id, f"{key}#{i}", context["run_id"])
                                      for i in range(count)]


class IdempotentEmrAddStepsOperator(EmrAddStepsOperator):
    """EmrAddStepsOperator that names its steps after the DAG run and task and never submits twice.

    A retry first looks for steps of those names that are pending, running or completed on the
    cluster and returns their ids instead of adding new ones; only failed or cancelled steps are
    submitted again. It returns the step ids in the order of `steps`, like the provider's operator.
    Waiting is left to the step sensor.
    """

    def __init__(self, **kwargs):
        super().__init__(wait_for_completion=False, deferrable=False, **kwargs)

    def execute(self, context: Any) -> list[str]:
        if not self.job_flow_id:
            raise AirflowFailException(f"{self.task_id}: job_flow_id is required (cluster id or create task output)")
        names = task_step_names(context, self.task_id, len(self.steps))
        named = [{**step, "Name": name} for step, name in zip(self.steps, names)]
        existing = find_reusable_steps(self.hook.conn, self.job_flow_id, names)
        for name, step_id in existing.items():
            self.log.info("step %s already submitted as %s on %s: reusing it", name, step_id, self.job_flow_id)
        missing = [step for step in named if step["Name"] not in existing]
        submitted: dict[str, str] = {}
        if missing:
            self.steps = missing
            new_ids = super().execute(context)
            submitted = dict(zip([step["Name"] for step in missing], new_ids))
        elif self.do_xcom_push:
            context["ti"].xcom_push(key="job_flow_id", value=self.job_flow_id)
        return [existing.get(name) or submitted[name] for name in names]


class LakehouseEmrStepSensor(EmrStepSensor):
    """EmrStepSensor that fails for good (no retry) when the step failed or was cancelled.

    Retrying the sensor cannot change a finished step; clearing the job's task group does: its
    add-steps task then submits a new step, since failed steps are never reused.
    """

    def poke(self, context: Any) -> bool:
        try:
            return super().poke(context)
        except AirflowFailException:
            raise
        except AirflowException as exc:
            raise AirflowFailException(str(exc)) from exc

    def execute_complete(self, context: Any, event: Optional[dict] = None) -> None:
        if event and event.get("status") != "success":
            state = self.state_from_response(self.get_emr_response(context))
            if state in self.failed_states:
                raise AirflowFailException(f"EMR step {self.step_id} ended {state}: {event}")
        super().execute_complete(context, event)


class LocalSparkSubmitOperator(BaseOperator):
    """Runs a job's spark-submit command on this machine (`emr.runner: local`).

    Args:
        command: a lakehouse.orchestration.commands.spark_submit_command (templated).
        job_file: the job's file, checked before starting so a missing job fails clearly.
        cwd: the working directory (the project root).
    """

    template_fields: Sequence[str] = ("command",)
    ui_color = "#e8f0fe"

    def __init__(self, *, command: Sequence[str], job_file: str, cwd: str, **kwargs):
        super().__init__(**kwargs)
        self.command = list(command)
        self.job_file = job_file
        self.cwd = cwd
        self._process: Optional[LoggedProcess] = None

    def execute(self, context: Any) -> None:
        if not Path(self.job_file).is_file():
            raise AirflowFailException(f"job file {self.job_file} does not exist")
        self._process = local_spark_submit(self.command, self.cwd)
        _run(self._process, self.log)

    def on_kill(self) -> None:
        if self._process is not None:
            self._process.kill()


class DbtOperator(BaseOperator):
    """Runs one dbt command (lakehouse.orchestration.dbt.dbt_command) from the project folder.

    dbt's exit status is the verdict: a failed test or a stale source fails the task.
    """

    template_fields: Sequence[str] = ("command",)
    ui_color = "#ffe7d6"

    def __init__(self, *, command: Sequence[str], project_dir: str, env: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self.command = list(command)
        self.project_dir = project_dir
        self.env = dict(env)
        self._process: Optional[LoggedProcess] = None

    def execute(self, context: Any) -> None:
        self._process = dbt_process(self.command, self.project_dir, self.env)
        _run(self._process, self.log)

    def on_kill(self) -> None:
        if self._process is not None:
            self._process.kill()


def _run(process: LoggedProcess, log) -> None:
    try:
        process.run(log)
    except LocalJobError as exc:
        raise AirflowException(str(exc)) from exc
