"""The Airflow task as the OpenLineage parent of the Spark application it starts.

The step's spark-submit gets `spark.openlineage.parentJobNamespace`, `parentJobName` and
`parentRunId`: OpenLineage's Spark listener then names that parent in every event of the application,
and the streaming runs (lakehouse.streaming.lineage) do too, so a Marquez or DataZone graph goes from
the DAG run's task to the datasets. The job is `<dag_id>.<task_id>`, as OpenLineage's Airflow
integration names tasks; the run id is derived from the DAG run, task and try, so it is stable across
the look-ups of one try. (apache-airflow-providers-openlineage is not installed here: the Amazon
provider's own injection, `openlineage_inject_parent_job_info`, needs its macros.)
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Optional

from lakehouse.lineage.client import PARENT_CONF

PARENT_PREFIX = "spark.openlineage.parent"


def task_parent_run(namespace: Optional[str], context: Any) -> dict[str, str]:
    """The PARENT_CONF properties of the running task instance; empty when `namespace` is None (lineage off)."""
    if namespace is None:
        return {}
    ti = context["ti"]
    dag_id, task_id = context["dag"].dag_id, ti.task_id
    key = f"airflow/{dag_id}/{context['run_id']}/{task_id}/{getattr(ti, 'map_index', -1)}/{ti.try_number}"
    return dict(zip(PARENT_CONF, (namespace, f"{dag_id}.{task_id}", str(uuid.uuid5(uuid.NAMESPACE_URL, key)))))


def with_parent_run(command: Sequence[str], parent: dict[str, str]) -> list[str]:
    """`command` (a spark-submit command line) with `--conf` for each parent property, right after
    spark-submit; unchanged when it names a parent already or `parent` is empty."""
    command = list(command)
    if not parent or any(PARENT_PREFIX in argument for argument in command):
        return command
    confs = [part for key, value in parent.items() for part in ("--conf", f"{key}={value}")]
    return [command[0], *confs, *command[1:]]
