"""
### Table maintenance, daily

`table_maintenance` (console script `lakehouse-maintenance`) compacts every table listed in
`maintenance.tables` with OPTIMIZE (ZORDER BY the configured columns) and then VACUUMs it with the
configured retention, never below Delta's 7-day default (the job refuses unless forced by hand
with `--force-retention`). It prints one line per table saying what it did.

One task per group of tables, named after the job that writes them (`maintenance.tables.*.writer`),
and run in that writer's pool: OPTIMIZE and VACUUM of a table never overlap its writer's run, and a
group whose writer is busy waits without holding up the others. Runs at 03:30 UTC, after the
daily build, on a transient cluster (`create_cluster` / `terminate_cluster`).

#### Task graph
```
maintain_streaming_tables
maintain_extract_tables
maintain_landed_files_tables
```
"""
from __future__ import annotations

import lakehouse_dag_settings as settings
from airflow.sdk import DAG

with DAG(
    dag_id="table_maintenance",
    schedule="30 3 * * *",
    doc_md=__doc__,
    **settings.dag_kwargs("maintenance", "delta", "emr"),
) as dag, settings.emr_cluster(dag.dag_id, "transient") as cluster:
    for writer, tables in sorted(settings.maintained_tables_by_writer().items()):
        settings.spark_job(f"maintain_{writer}_tables", "table_maintenance", ["--tables", ",".join(tables)], cluster,
                           writer=writer)
