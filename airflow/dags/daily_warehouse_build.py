"""
### Daily warehouse build: files -> refresh -> freshness gate -> dbt build

1. `ingest_files`: `files_to_bronze` picks up the files external loaders (Airbyte: Salesforce
   accounts, daily full refresh) landed in the lake's raw prefix since the last run.
2. `refresh_external_tables`: `dbt run-operation refresh_lake_external_tables`. Snowflake's
   external tables over the Delta files never refresh themselves, so their metadata is as old as
   the last refresh: without this the gate would judge, and the build read, stale metadata. On
   the local target (DuckDB reading the Delta tables directly) it has nothing to do.
3. `check_source_freshness`: `dbt source freshness`. The gate: when a silver table is older than
   its `error_after` (the streaming and hourly extract DAGs keep them fresh), the task fails and
   nothing is built on stale data. Retried twice, 5 minutes apart, for late upstream runs.
4. `build_warehouse`: `dbt build`, models, snapshots and tests in dependency order; a failing test
   stops everything downstream of it and fails the task (data quality gate).

dbt runs on the worker against `airflow.dbt_target` (Snowflake in dev and prod, DuckDB over
the local Delta tables locally). A deadline alert fires when a run has not finished
`airflow.daily_deadline_hours` after its logical date.

On EMR `ingest_files` runs as a step on a transient cluster: without `emr.cluster_id` the run
creates it first (`create_cluster`) and ends it after the job (`terminate_cluster`, teardown),
so dbt does not keep a cluster up. The task runs in the `lakehouse_landed_files_tables` pool.

#### Task graph
```
ingest_files >> refresh_external_tables >> check_source_freshness >> build_warehouse
```
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
    with settings.emr_cluster(dag.dag_id, "transient") as cluster:
        files = settings.spark_job("ingest_files", "files_to_bronze", [], cluster, writer="landed_files")
    refresh = settings.dbt_task("refresh_external_tables", ["run-operation", "refresh_lake_external_tables"])
    freshness = settings.dbt_task("check_source_freshness", ["source", "freshness"])
    build = settings.dbt_task("build_warehouse", ["build"])
    files >> refresh >> freshness >> build
