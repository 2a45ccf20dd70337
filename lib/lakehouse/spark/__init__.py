"""The one place that builds a SparkSession."""
from lakehouse.spark.session import build_spark, job_jars, spark_conf, spark_submit_args, stop_spark

__all__ = ["build_spark", "job_jars", "spark_conf", "spark_submit_args", "stop_spark"]
