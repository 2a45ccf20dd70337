"""Settings and building blocks every lakehouse DAG shares (not a DAG; listed in .airflowignore).

- The environment: LAKEHOUSE_ENV (default local) and LAKEHOUSE_CONF_DIR (default the repository's
  conf/) pick the config, read from conf/*.yaml once per process. Nothing else happens at import
  time: no network, no Airflow Variables or Connections, no secrets resolved, no subprocess.
- default_args: owner, retries 2 with a 5-minute delay, alerts on failure (e-mail, Slack,
  PagerDuty when their connections exist; logged otherwise), and the DAG defaults: no catch-up,
  max_active_runs=1, tags, and a deadline for the daily build (Airflow 3 replaced SLAs) where
  airflow.daily_deadline_hours is set (dev, prod).
- spark_job: one task group per job. With `emr.runner: emr` it is `submit_step >> wait_for_step`
  (an add-steps task that never submits the same step twice, then a deferrable step sensor);
  with `emr.runner: local` it is one `spark_submit` task running the same command locally.
- emr_cluster: the cluster the jobs of a DAG run use: `emr.cluster_id`, or a transient cluster
  created by `create_cluster` (setup) and ended by `terminate_cluster` (teardown: it runs when
  everything else is done, whatever the outcome, and does not decide the run's state).
- dbt_task: one dbt command, run on the worker against the environment's target.
"""
from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

from airflow.providers.amazon.aws.operators.emr import EmrCreateJobFlowOperator, EmrTerminateJobFlowOperator
from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference, TaskGroup

from lakehouse.config import Config, load_config
from lakehouse.orchestration import commands, emr
from lakehouse.orchestration.alerts import AlertChannels, FailureAlertNotifier, channels_kwargs, deadline_missed
from lakehouse.orchestration.dbt import dbt_command, dbt_env
from lakehouse.orchestration.operators import (
    DbtOperator,
    IdempotentEmrAddStepsOperator,
    LakehouseEmrStepSensor,
    LocalSparkSubmitOperator,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)
RETRIES = 2
RETRY_DELAY = timedelta(minutes=5)


@functools.lru_cache(maxsize=1)
def config() -> Config:
    """The environment's config (LAKEHOUSE_ENV, LAKEHOUSE_CONF_DIR, LAKEHOUSE__* variables)."""
    conf_dir = os.environ.get("LAKEHOUSE_CONF_DIR") or PROJECT_ROOT / "conf"
    return load_config(os.environ.get("LAKEHOUSE_ENV", "local"), conf_dir)


def alert_channels(cfg: Config) -> AlertChannels:
    return AlertChannels(
        emails=list(cfg.airflow.alert_emails),
        smtp_conn_id=cfg.airflow.smtp_conn_id,
        slack_conn_id=cfg.airflow.slack_conn_id,
        pagerduty_conn_id=cfg.airflow.pagerduty_conn_id,
    )


def default_args() -> dict[str, Any]:
    cfg = config()
    return {
        "owner": cfg.airflow.owner,
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "depends_on_past": False,
        "email_on_failure": False,  # the notifier sends e-mail itself, with the other channels
        "email_on_retry": False,
        "on_failure_callback": FailureAlertNotifier(alert_channels(cfg)),
    }


def dag_kwargs(*tags: str, daily_deadline: bool = False) -> dict[str, Any]:
    """Keyword arguments of every lakehouse DAG; add schedule, doc_md and dag_id."""
    cfg = config()
    kwargs: dict[str, Any] = {
        "default_args": default_args(),
        "start_date": START_DATE,
        "catchup": False,
        "max_active_runs": 1,
        "tags": ["lakehouse", cfg.env, *tags],
    }
    if daily_deadline and cfg.airflow.daily_deadline_hours:
        kwargs["deadline"] = DeadlineAlert(
            reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
            interval=timedelta(hours=cfg.airflow.daily_deadline_hours),
            callback=AsyncCallback(deadline_missed, kwargs=channels_kwargs(alert_channels(cfg))),
        )
    return kwargs


@contextlib.contextmanager
def emr_cluster(dag_id: str) -> Iterator[Optional[Any]]:
    """Yields the job_flow_id for the spark_job groups created inside the block (None locally)."""
    cfg = config()
    if cfg.emr.runner == "local" or cfg.emr.cluster_id:
        yield cfg.emr.cluster_id if cfg.emr.runner == "emr" else None
        return
    aws = {"aws_conn_id": cfg.emr.aws_conn_id, "region_name": cfg.s3.region}
    create = EmrCreateJobFlowOperator(
        task_id="create_cluster",
        emr_conn_id=None,  # the whole request comes from the config
        job_flow_overrides=emr.job_flow_overrides(
            cfg, f"{cfg.emr.cluster.name}-{cfg.env}-{dag_id}-{{{{ run_id }}}}", commands.release_uri(cfg)
        ),
        wait_for_completion=False,  # steps queue on a starting cluster; the sensors do the waiting
        **aws,
    )
    terminate = EmrTerminateJobFlowOperator(
        task_id="terminate_cluster", job_flow_id=create.output, deferrable=cfg.emr.deferrable, **aws
    )
    with terminate.as_teardown(setups=create):
        yield create.output


def spark_job(group_id: str, job: str, job_args: Sequence[str] = (), job_flow_id: Optional[Any] = None) -> TaskGroup:
    """The task group that runs `job` once per DAG run, on EMR or locally (see the module doc)."""
    cfg = config()
    with TaskGroup(group_id, tooltip=f"{job} {' '.join(job_args)}".strip()) as group:
        if cfg.emr.runner == "local":
            LocalSparkSubmitOperator(
                task_id="spark_submit",
                command=commands.spark_submit_command(cfg, job, job_args),
                job_file=str(Path(cfg.project_root, commands.job_file(job))),
                cwd=cfg.project_root,
            )
            return group
        aws = {"aws_conn_id": cfg.emr.aws_conn_id, "region_name": cfg.s3.region}
        submit = IdempotentEmrAddStepsOperator(
            task_id="submit_step", job_flow_id=job_flow_id, steps=[commands.emr_step(cfg, job, job_args)], **aws
        )
        poke_interval = cfg.emr.poke_interval_s
        wait = LakehouseEmrStepSensor(
            task_id="wait_for_step",
            job_flow_id=job_flow_id,
            step_id=f"{{{{ ti.xcom_pull(task_ids='{submit.task_id}')[0] }}}}",
            deferrable=cfg.emr.deferrable,
            poke_interval=poke_interval,
            max_attempts=max(1, cfg.emr.step_timeout_minutes * 60 // poke_interval),
            timeout=cfg.emr.step_timeout_minutes * 60,
            mode="reschedule",  # without deferral, free the worker slot between pokes
            **aws,
        )
        submit >> wait
    return group


def dbt_task(task_id: str, dbt_args: Sequence[str]) -> DbtOperator:
    cfg = config()
    return DbtOperator(
        task_id=task_id,
        command=dbt_command(cfg, dbt_args),
        project_dir=cfg.airflow.dbt_project_dir,
        env=dbt_env(cfg),
    )
