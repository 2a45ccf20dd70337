"""
### Postgres extract, hourly

`postgres_extract --mode incremental` reads every table configured for extraction from the
operational Postgres (read replica) into its silver Delta table, from where the last run
stopped. The job keeps its own position in the Delta commit, so a retried or overlapping run
neither loses nor duplicates rows.

On EMR the job runs as a step on the long-running **ingest cluster** (shared with the streaming
pipeline; README "Cost model"): `find_ingest_cluster` returns it, creating it when none is up. The
task runs in the `lakehouse_extract_tables` pool, which keeps table maintenance off its tables.

#### Task graph
```
extract_postgres
```
"""
from __future__ import annotations

import lakehouse_dag_settings as settings
from airflow.sdk import DAG

with DAG(
    dag_id="postgres_extract_hourly",
    schedule="5 * * * *",
    doc_md=__doc__,
    **settings.dag_kwargs("batch", "postgres", "emr"),
) as dag, settings.emr_cluster(dag.dag_id, "ingest") as cluster:
    settings.spark_job("extract_postgres", "postgres_extract", ["--mode", "incremental"], cluster, writer="extract")
