"""DataFrames of a few rows the driver holds, built in the JVM: no Python worker runs them.

`spark.createDataFrame(list)` parallelizes pickled rows that a Python worker unpickles when the
DataFrame is computed. A driver's first Python worker costs about 1.3 s to start (measured: the quality
row after a restart, S7). `driver_rows` writes the values as literals of the plan instead (Range ->
Generate), cast to the schema's types: one expression per value, each made by calls into the JVM,
so it is for a few rows (a batch's checks, a run's log rows), not for a table's worth.
"""
from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType


def driver_rows(spark, rows: Sequence[Sequence[object]], schema: StructType) -> DataFrame:
    """A DataFrame of `rows` (tuples, or Rows, in the schema's column order) with exactly `schema`'s
    column names and types."""
    fields = schema.fields
    for row in rows:
        if len(row) != len(fields):
            raise ValueError(f"a row of {len(row)} values for a schema of {len(fields)} columns: {tuple(row)!r}")
    if not rows:
        return spark.range(0).select(*[F.lit(None).cast(field.dataType).alias(field.name) for field in fields])
    # Cast to a type's SQL name: one call into the JVM, where casting to a DataType took three more.
    types = [field.dataType.simpleString() for field in fields]
    structs = [F.struct(*[F.lit(value).cast(kind).alias(field.name) for value, kind, field in zip(row, types, fields)])
               for row in rows]
    return spark.range(1).select(F.inline(F.array(*structs)))
