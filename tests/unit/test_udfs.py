"""The project's JVM functions: registered on the session, and a missing jar named at start."""
from __future__ import annotations

import pytest

from lakehouse.spark.udfs import JSON_SCAN, JSON_SCAN_RESULT, UDF_JAR, UdfJarMissing, register_java_function


def test_the_json_scan_is_registered_on_the_session(spark):
    row = spark.sql(f"SELECT {JSON_SCAN}(CAST('{{\"a\": 1, \"a\": 2}}' AS BINARY), 'a,b') AS s").first().s
    assert (row.error, row.duplicate_key, list(row.kinds)) == (None, True, ["number", None])


def test_a_class_missing_from_the_classpath_names_the_jar(spark):
    with pytest.raises(UdfJarMissing, match=UDF_JAR):
        register_java_function(spark, "lakehouse_absent", "lakehouse.udf.Absent", JSON_SCAN_RESULT)
