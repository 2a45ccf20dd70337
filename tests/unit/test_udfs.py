"""The project's JVM functions: registered on the session, a missing jar named at start, and fixed instants."""
from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F

from lakehouse.spark.udfs import (
    JSON_SCAN,
    JSON_SCAN_RESULT,
    UDF_JAR,
    UdfJarMissing,
    fixed_instant,
    register_java_function,
)


def test_the_json_scan_is_registered_on_the_session(spark):
    row = spark.sql(f"SELECT {JSON_SCAN}(CAST('{{\"a\": 1, \"a\": 2}}' AS BINARY), 'a,b') AS s").first().s
    assert (row.error, row.duplicate_key, list(row.kinds)) == (None, True, ["number", None])


def test_a_class_missing_from_the_classpath_names_the_jar(spark):
    with pytest.raises(UdfJarMissing, match=UDF_JAR):
        register_java_function(spark, "lakehouse_absent", "lakehouse.udf.Absent", JSON_SCAN_RESULT)


@pytest.mark.parametrize(("at", "micros"), [
    (dt.datetime(2026, 12, 7, 20, 1, 2, 345678, tzinfo=dt.timezone.utc), 1_796_673_662_345_678),
    (dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc), -1),   # before the epoch
    (dt.datetime(2026, 3, 29, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=45))),
     1_774_730_700_000_000),   # 2026-03-28 20:45 UTC
])
def test_a_fixed_instant_holds_the_same_microsecond_as_its_literal(spark, at, micros):
    rows = spark.range(3).select(F.unix_micros(fixed_instant(spark, at)).alias("fixed"),
                                 F.unix_micros(F.lit(at)).alias("literal")).collect()
    assert [(row.fixed, row.literal) for row in rows] == [(micros, micros)] * 3


def test_a_fixed_instant_needs_a_time_zone(spark):
    with pytest.raises(ValueError, match="aware"):
        fixed_instant(spark, dt.datetime(2026, 12, 7, 20, 0))
