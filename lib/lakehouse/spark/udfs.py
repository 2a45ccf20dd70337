"""The project's JVM functions (jars/udf, lakehouse.udf.*): the JSON scan, registered on every session by
build_spark, and fixed instants (`fixed_instant`), built as columns where they are used.

They live in the lakehouse-udf jar: locally in spark.jars_dir (`make jars` builds it), on EMR one
of spark.extra_jars. A session without the jar fails at start, naming the jar, rather than at
the first record.
"""
from __future__ import annotations

import datetime as dt

from pyspark.sql import Column

JSON_SCAN = "lakehouse_json_scan"
JSON_SCAN_CLASS = "lakehouse.udf.JsonScan"
# error: null, invalid_utf8 or malformed_json; kinds and texts: one per requested field (see JsonScan.java).
JSON_SCAN_RESULT = "struct<error:string,duplicate_key:boolean,kinds:array<string>,texts:array<string>>"
UDF_JAR = "lakehouse-udf-1.jar"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


class UdfJarMissing(RuntimeError):
    """The session's classpath lacks the lakehouse-udf jar."""


def register_udfs(spark) -> None:
    """Registers the project's JVM functions on `spark` (streaming queries inherit them)."""
    register_java_function(spark, JSON_SCAN, JSON_SCAN_CLASS, JSON_SCAN_RESULT)


def register_java_function(spark, name: str, class_name: str, result_type: str) -> None:
    """Registers one function of the lakehouse-udf jar; a class not on the classpath raises UdfJarMissing."""
    try:
        spark.udf.registerJavaFunction(name, class_name, result_type)
    except Exception as exc:
        if "ClassNotFoundException" in str(exc) or "Can not load class" in str(exc):
            raise UdfJarMissing(
                f"{class_name} is not on the classpath: add {UDF_JAR} to spark.jars "
                "(locally `make jars` builds it into spark.jars_dir; on EMR list it in spark.extra_jars)"
            ) from exc
        raise


def fixed_instant(spark, at: dt.datetime) -> Column:
    """A timestamp column holding the aware datetime `at` on every row, to the microsecond, that Spark's
    generated code takes by reference (lakehouse.udf.FixedInstant): a literal's value is written into the
    code, so every micro-batch stamped with its own time compiled its stages again."""
    if at.tzinfo is None:
        raise ValueError(f"fixed_instant needs an aware datetime, got {at!r}")
    micros = (at - EPOCH) // dt.timedelta(microseconds=1)
    return Column(spark.sparkContext._jvm.lakehouse.udf.FixedInstant.at(micros))
