"""lakehouse.spark.driver_rows: the rows createDataFrame would make, computed without a Python worker."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from chispa import assert_df_equality
from pyspark.sql.types import (
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from lakehouse.ops import quality
from lakehouse.spark.driver_rows import driver_rows

SCHEMA = StructType([StructField("name", StringType()), StructField("count", LongType()),
                     StructField("small", IntegerType()), StructField("share", DoubleType()),
                     StructField("rate", DecimalType(18, 8)), StructField("day", DateType()),
                     StructField("at", TimestampType()), StructField("ok", BooleanType())])
ROWS = [("a", 5_000_000_000, 3, 0.25, Decimal("1.23456789"), dt.date(2024, 6, 1),
         dt.datetime(2024, 6, 1, 10, 0, 0, 250_000, tzinfo=dt.timezone.utc), True),
        ("it's \"quoted\"", None, None, None, None, None, None, None)]


def computed_by_python(df) -> bool:
    return "PythonRDD" in df._jdf.queryExecution().toRdd().toDebugString()


def test_the_same_rows_and_schema_as_create_data_frame(spark):
    rows = driver_rows(spark, ROWS, SCHEMA)

    assert not computed_by_python(rows)
    assert computed_by_python(spark.createDataFrame(ROWS, SCHEMA))  # what it replaces
    assert_df_equality(rows, spark.createDataFrame(ROWS, SCHEMA), ignore_nullable=True, ignore_row_order=True)


def test_a_quality_check_row_as_appended(spark):
    check = quality.result("silver", "app/5", "silver.transactions", "accepted_share", "pass", rows_checked=3,
                           rows_failed=1, detail="quarantined: malformed_json=1")
    values = [tuple(check.__dict__.values())]

    assert_df_equality(driver_rows(spark, values, quality.spark_schema()),
                       spark.createDataFrame(values, quality.spark_schema()), ignore_nullable=True)


def test_no_rows_give_an_empty_frame_of_the_schema(spark):
    empty = driver_rows(spark, [], SCHEMA)

    assert empty.count() == 0
    assert [(f.name, f.dataType) for f in empty.schema.fields] == [(f.name, f.dataType) for f in SCHEMA.fields]


def test_a_row_of_the_wrong_width_is_refused(spark):
    with pytest.raises(ValueError, match="a row of 2 values for a schema of 8 columns"):
        driver_rows(spark, [("a", 1)], SCHEMA)
