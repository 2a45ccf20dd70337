"""Hadoop's FileSystem for a path, as the session's Spark jobs see it: local, s3a:// and s3:// (EMRFS)."""
from __future__ import annotations


def filesystem(spark, path: str):
    """(the JVM FileSystem serving `path`, `path` as a Hadoop Path), with the session's Hadoop settings
    (`spark.hadoop.*` and the SQL conf's overrides)."""
    hadoop_path = spark._jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark._jsparkSession.sessionState().newHadoopConf()), hadoop_path
