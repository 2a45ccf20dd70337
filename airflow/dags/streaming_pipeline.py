"""
### Streaming pipeline: Kafka -> bronze -> silver, every 15 minutes

Runs the streaming jobs as **scheduled available-now runs**: each run reads everything that
arrived since the last run (from the checkpoints), commits it, and stops.

- `ingest_bronze`: `kafka_to_bronze --trigger available-now`, the three topics into bronze.
- `refine_silver`: `bronze_to_silver --trigger available-now`, bronze into the silver tables
  (quarantine and fraud review included).

Why scheduled runs rather than always-on steps: a run that ends gives Airflow a real success or
failure, so retries, alerts and the deadline of the daily build work as for any batch job; the
checkpoints make back-to-back runs exactly once; an always-on step would hold an EMR step slot
for ever, need its own health checks and restarts, and cannot be tested end to end here. The
price is freshness: about 15 minutes plus start-up instead of seconds. Jobs that need seconds
run the same code with `--trigger processing-time` outside this DAG.

On EMR both jobs run as steps on the long-running **ingest cluster** (shared with the hourly
extract; README "Cost model"): `find_ingest_cluster` returns it, creating it when none is up. Both
tasks run in the `lakehouse_streaming_tables` pool, which keeps table maintenance off their tables.

#### Task graph
```
ingest_bronze >> refine_silver
```
"""
from __future__ import annotations

import lakehouse_dag_settings as settings
from airflow.sdk import DAG

with DAG(
    dag_id="streaming_pipeline",
    schedule="*/15 * * * *",
    doc_md=__doc__,
    **settings.dag_kwargs("streaming", "emr"),
) as dag, settings.emr_cluster(dag.dag_id, "ingest") as cluster:
    bronze = settings.spark_job("ingest_bronze", "kafka_to_bronze", ["--trigger", "available-now"], cluster,
                                writer="streaming")
    silver = settings.spark_job("refine_silver", "bronze_to_silver", ["--trigger", "available-now"], cluster,
                                writer="streaming")
    bronze >> silver
