"""How Airflow runs the jobs: EMR steps in the cloud, local spark-submit processes on a laptop or CI.

`commands.spark_submit_command` is the one place that turns (config, job, flags) into a command
line; EMR steps (`commands.emr_step`), the local runner and the tests all use it. `artifacts`
ships what those commands reference to S3; `emr` holds the cluster request and the step look-up
that makes a retried submission reuse its step; `operators` wires them into Airflow.
"""
