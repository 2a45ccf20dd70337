"""OpenLineage events: dataset names shared by every emitter, the Python client, dbt and streaming runs.

The Spark jobs' own events come from OpenLineage's Spark listener (lakehouse.spark.session), minus the
actions lakehouse.lineage.skip leaves out; this package names datasets the way that listener does, so
the graph connects across Spark, dbt and Airflow.
"""
