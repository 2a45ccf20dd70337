"""
### Postgres extract, hourly

`postgres_extract --mode incremental` reads every table configured for extraction from the
operational Postgres (read replica) into its silver Delta table, from where the last run
stopped. The job keeps its own position in the Delta commit, so a retried or overlapping run
neither loses nor duplicates rows.

Once a day (the run of RECONCILE_HOUR_UTC) `postgres_extract --mode reconcile` then compares keys
(keys only, no writes): a source row at or below the position whose key the target lacks was
inserted with a cursor behind the position (an application clock behind the database's, an
explicit past `updated_at`, a table without the trigger) and no incremental run will ever read it.
The job fails on such rows, so the task fails and alerts (README "Batch extracts"); a full refresh
or a backfill of their range repairs the table. In the other runs `check_reconcile_due` skips it.

On EMR the job runs as a step on the long-running **ingest cluster** (shared with the streaming
pipeline; README "Cost model"): `find_ingest_cluster` returns it, creating it when none is up. The
tasks run in the `lakehouse_extract_tables` pool, which keeps table maintenance off its tables.

#### Task graph
```
extract_postgres >> check_reconcile_due >> reconcile_postgres
```
"""
from __future__ import annotations

import lakehouse_dag_settings as settings
from airflow.sdk import DAG

RECONCILE_HOUR_UTC = 2

with DAG(
    dag_id="postgres_extract_hourly",
    schedule="5 * * * *",
    doc_md=__doc__,
    **settings.dag_kwargs("batch", "postgres", "emr"),
) as dag, settings.emr_cluster(dag.dag_id, "ingest") as cluster:
    extract = settings.spark_job("extract_postgres", "postgres_extract", ["--mode", "incremental"], cluster,
                                 writer="extract")
    reconcile = settings.spark_job("reconcile_postgres", "postgres_extract", ["--mode", "reconcile"], cluster,
                                   writer="extract")
    extract >> settings.once_a_day("check_reconcile_due", RECONCILE_HOUR_UTC) >> reconcile
