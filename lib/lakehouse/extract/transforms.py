"""DataFrame transforms of the extract and of landed files: pure, chained with `DataFrame.transform`."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Callable

Transform = Callable[[object], object]  # DataFrame -> DataFrame


def dedupe_latest(keys: Sequence[str], order_by: Sequence[str]) -> Transform:
    """One row per key: the row with the greatest `order_by` values, compared left to right.

    A MERGE source must hold each key once. Nulls in `order_by` rank lowest; rows whose key is
    null count as one key, as in a GROUP BY.
    """

    def transform(df):
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        newest_first = Window.partitionBy(*keys).orderBy(*(F.col(c).desc_nulls_last() for c in order_by))
        ranked = df.withColumn("_rank", F.row_number().over(newest_first))
        return ranked.where(F.col("_rank") == 1).select(*df.columns)

    return transform


def filter_absent_keys(present, keys: Sequence[str]) -> Transform:
    """Keeps the rows whose key is not among `present`'s (a DataFrame holding the `keys` columns).

    Reconciliation: target rows whose key the source no longer has were hard-deleted there.
    A null key never matches, so such a row is kept (and reported).
    """

    def transform(df):
        return df.join(present.select(*keys), on=list(keys), how="left_anti").select(*df.columns)

    return transform


def nullable_schema(schema):
    """The schema with every field nullable and no JDBC field metadata: a lake table's columns."""
    from pyspark.sql.types import StructField, StructType

    return StructType([StructField(f.name, f.dataType, True) for f in schema.fields])
