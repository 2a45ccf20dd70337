"""Settings and building blocks every lakehouse DAG shares (not a DAG; listed in .airflowignore).

- The environment: LAKEHOUSE_ENV (default local) and LAKEHOUSE_CONF_DIR (default the repository's
  conf/) pick the config, read from conf/*.yaml once per process. Nothing else happens at import
  time: no network, no Airflow Variables or Connections, no secrets resolved, no subprocess.
- default_args: owner, retries 2 with a 5-minute delay, alerts on failure (e-mail, Slack,
  PagerDuty when their connections exist; logged otherwise), and the DAG defaults: no catch-up,
  max_active_runs=1, tags, and a deadline for the daily build (Airflow 3 replaced SLAs) where
  airflow.daily_deadline_hours is set (dev, prod).
- spark_job: one task per job, the same task id on every runner. With `emr.runner: emr` it runs
  the job as an EMR step and waits for it (deferrable); a retry submits the step again only if it
  failed. With `emr.runner: local` it runs the same command with spark-submit on the worker.
- emr_cluster: the cluster the jobs of a DAG run use: `emr.cluster_id` if set; else the frequent
  DAGs share the long-running ingest cluster (`find_ingest_cluster` finds it, or creates it when
  none is up), and the daily DAGs create a transient cluster (`create_cluster`, setup) and end it
  (`terminate_cluster`, teardown: runs when everything else is done, whatever the outcome).
- Pools (airflow/pools.json, one slot each, deferred tasks included): every task that writes a
  group of tables runs in that group's pool, so table maintenance never runs while the group's
  writer does; the ingest cluster is looked up one task at a time, so two DAGs never create two.
- dbt_task: one dbt command, run on the worker against the environment's target.
- once_a_day: in an hourly DAG, lets the tasks after it run in one run a day only.
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
from airflow.providers.standard.operators.python import ShortCircuitOperator
from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

from lakehouse.config import Config, load_config
from lakehouse.ops.dbt_quality import dbt_results_target
from lakehouse.orchestration import commands, emr
from lakehouse.orchestration.alerts import AlertChannels, FailureAlertNotifier, channels_kwargs, deadline_missed
from lakehouse.orchestration.dbt import dbt_command, dbt_env
from lakehouse.orchestration.operators import (
    DbtOperator,
    IngestClusterOperator,
    LakehouseEmrStepOperator,
    LocalSparkSubmitOperator,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)
RETRIES = 2
RETRY_DELAY = timedelta(minutes=5)
INGEST_CLUSTER_POOL = "lakehouse_ingest_cluster"


def writer_pool(writer: str) -> str:
    """The pool of the tasks that write (or maintain) the tables of `writer` (maintenance.tables.*.writer)."""
    return f"lakehouse_{writer}_tables"


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


def _aws(cfg: Config) -> dict[str, Any]:
    return {"aws_conn_id": cfg.emr.aws_conn_id, "region_name": cfg.s3.region}


@contextlib.contextmanager
def emr_cluster(dag_id: str, purpose: emr.Purpose) -> Iterator[Optional[Any]]:
    """Yields the job_flow_id for the spark_job tasks created inside the block (None locally).

    Args:
        dag_id: names the transient cluster.
        purpose: "ingest" for the frequent DAGs (the shared long-running cluster), "transient"
            for the daily ones (a cluster per run).
    """
    cfg = config()
    if cfg.emr.runner == "local" or cfg.emr.cluster_id:
        yield cfg.emr.cluster_id if cfg.emr.runner == "emr" else None
        return
    if purpose == "ingest":
        find = IngestClusterOperator(
            task_id="find_ingest_cluster",
            environment=cfg.env,
            job_flow_overrides=emr.job_flow_overrides(cfg, emr.ingest_cluster_name(cfg), "ingest"),
            pool=INGEST_CLUSTER_POOL,
            **_aws(cfg),
        )
        yield find.output
        return
    create = EmrCreateJobFlowOperator(
        task_id="create_cluster",
        emr_conn_id=None,  # the whole request comes from the config
        job_flow_overrides=emr.job_flow_overrides(cfg, f"{cfg.emr.cluster.name}-{cfg.env}-{dag_id}-{{{{ run_id }}}}"),
        wait_for_completion=False,  # steps queue on a starting cluster; the step tasks do the waiting
        **_aws(cfg),
    )
    terminate = EmrTerminateJobFlowOperator(
        task_id="terminate_cluster", job_flow_id=create.output, deferrable=cfg.emr.deferrable, **_aws(cfg)
    )
    with terminate.as_teardown(setups=create):
        yield create.output


def spark_job(task_id: str, job: str, job_args: Sequence[str] = (), job_flow_id: Optional[Any] = None,
              writer: Optional[str] = None):
    """The task that runs `job` once per DAG run, on EMR or locally (see the module doc).

    Args:
        writer: the group of tables the job writes (maintenance.tables.*.writer): the task runs
            in that group's pool.
    """
    cfg = config()
    pool = {"pool": writer_pool(writer)} if writer else {}
    lineage_namespace = cfg.lineage.namespace if cfg.lineage.enabled else None
    if cfg.emr.runner == "local":
        return LocalSparkSubmitOperator(
            task_id=task_id,
            command=commands.spark_submit_command(cfg, job, job_args),
            job_file=str(Path(cfg.project_root, commands.job_file(job))),
            cwd=cfg.project_root,
            lineage_namespace=lineage_namespace,
            **pool,
        )
    poke_interval = cfg.emr.poke_interval_s
    return LakehouseEmrStepOperator(
        task_id=task_id,
        job_flow_id=job_flow_id,
        step=commands.emr_step(cfg, job, job_args),
        lineage_namespace=lineage_namespace,
        deferrable=cfg.emr.deferrable,
        waiter_delay=poke_interval,
        waiter_max_attempts=max(1, cfg.emr.step_timeout_minutes * 60 // poke_interval),
        execution_timeout=timedelta(minutes=cfg.emr.step_timeout_minutes),
        **pool,
        **_aws(cfg),
    )


def maintained_tables_by_writer() -> dict[str, list[str]]:
    """maintenance.tables grouped by the job that writes them, e.g. {"extract": ["silver.orders", ...]}."""
    groups: dict[str, list[str]] = {}
    for name, table in config().maintenance.tables.items():
        groups.setdefault(table.writer, []).append(name)
    return groups


def dbt_task(task_id: str, dbt_args: Sequence[str]) -> DbtOperator:
    cfg = config()
    return DbtOperator(
        task_id=task_id,
        command=dbt_command(cfg, dbt_args),
        project_dir=cfg.airflow.dbt_project_dir,
        env=dbt_env(cfg),
        quality_results=dbt_results_target(cfg),
        lineage=cfg if cfg.lineage.enabled else None,
    )


def once_a_day(task_id: str, hour_utc: int) -> ShortCircuitOperator:
    """A gate of an hourly DAG: the tasks after it run in the run whose logical date falls in
    `hour_utc` (and in manual runs, which have none); in the other runs they are skipped."""
    return ShortCircuitOperator(task_id=task_id, python_callable=is_due, op_kwargs={"hour_utc": hour_utc})


def is_due(hour_utc: int, logical_date: Optional[datetime] = None, **_: Any) -> bool:
    return logical_date is None or logical_date.astimezone(timezone.utc).hour == hour_utc
