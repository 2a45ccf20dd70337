"""
### Table maintenance, daily

`table_maintenance` (console script `lakehouse-maintenance`) compacts every table listed in
`maintenance.tables` with OPTIMIZE (ZORDER BY the configured columns) and then VACUUMs it with the
configured retention, never below Delta's 7-day default (the job refuses unless forced by hand
with `--force-retention`). It prints one line per table saying what it did.

Runs at 03:30 UTC, after the daily build, when the lake is quietest; an OPTIMIZE that collides
with a concurrent MERGE fails that table only and the task is retried.

#### Task graph
```
optimize_and_vacuum
```
On EMR the job is a group `submit_step >> wait_for_step`; without `emr.cluster_id` the run
creates its cluster first (`create_cluster`) and ends it last (`terminate_cluster`, teardown).
Locally the job is one `spark_submit` task.
"""
from __future__ import annotations

import lakehouse_dag_settings as settings
from airflow.sdk import DAG

with DAG(
    dag_id="table_maintenance",
    schedule="30 3 * * *",
    doc_md=__doc__,
    **settings.dag_kwargs("maintenance", "delta", "emr"),
) as dag, settings.emr_cluster(dag.dag_id) as cluster:
    settings.spark_job("optimize_and_vacuum", "table_maintenance", [], cluster)
