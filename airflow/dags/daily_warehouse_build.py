"""
### Daily warehouse build: files -> freshness gate -> dbt build

1. `ingest_files`: `files_to_bronze` picks up the files external loaders (Airbyte: Salesforce
   accounts, daily full refresh) landed in the lake's raw prefix since the last run.
2. `check_source_freshness`: `dbt source freshness`. The gate: when a silver table is older than
   its `error_after` (the streaming and hourly extract DAGs keep them fresh), the task fails and
   nothing is built on stale data. Retried twice, 5 minutes apart, for late upstream runs.
3. `build_warehouse`: `dbt build`, models, snapshots and tests in dependency order; a failing test
   stops everything downstream of it and fails the task (data quality gate).

dbt runs on the worker against `airflow.dbt_target` (Snowflake in dev and prod, DuckDB over
the local Delta tables locally). A deadline alert fires when a run has not finished
`airflow.daily_deadline_hours` after its logical date.

#### Task graph
```
ingest_files >> check_source_freshness >> build_warehouse
```
On EMR `ingest_files` is a group `submit_step >> wait_for_step`; without `emr.cluster_id` the run
creates its cluster first (`create_cluster`) and ends it after the job (`terminate_cluster`,
teardown), so dbt does not keep a cluster up. Locally the job is one `spark_submit` task.
"""
from __future__ import annotations

import lakehouse_dag_settings as settings
from airflow.sdk import DAG

with DAG(
    dag_id="daily_warehouse_build",
    schedule="0 2 * * *",
    doc_md=__doc__,
    **settings.dag_kwargs("dbt", "warehouse", "emr", daily_deadline=True),
) as dag:
    with settings.emr_cluster(dag.dag_id) as cluster:
        files = settings.spark_job("ingest_files", "files_to_bronze", [], cluster)
    freshness = settings.dbt_task("check_source_freshness", ["source", "freshness"])
    build = settings.dbt_task("build_warehouse", ["build"])
    files >> freshness >> build
