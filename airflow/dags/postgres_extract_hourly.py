"""
### Postgres extract, hourly

`postgres_extract --mode incremental` reads every table configured for extraction from the
operational Postgres (read replica) into its silver Delta table, from where the last run
stopped. The job keeps its own position in the Delta commit, so a retried or overlapping run
neither loses nor duplicates rows.

#### Task graph
```
extract_postgres
```
On EMR the job is a group `submit_step >> wait_for_step`; without `emr.cluster_id` the run
creates its cluster first (`create_cluster`) and ends it last (`terminate_cluster`, teardown).
Locally the job is one `spark_submit` task.
"""
from __future__ import annotations

import lakehouse_dag_settings as settings
from airflow.sdk import DAG

with DAG(
    dag_id="postgres_extract_hourly",
    schedule="5 * * * *",
    doc_md=__doc__,
    **settings.dag_kwargs("batch", "postgres", "emr"),
) as dag, settings.emr_cluster(dag.dag_id) as cluster:
    settings.spark_job("extract_postgres", "postgres_extract", ["--mode", "incremental"], cluster)
