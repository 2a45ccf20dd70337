"""DataFrame transforms of the extract: pure, chained with `DataFrame.transform`."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Callable

Transform = Callable[[object], object]  # DataFrame -> DataFrame


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
