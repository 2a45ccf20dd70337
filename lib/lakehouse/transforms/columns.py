"""The closing `select` of a step, stated by the table's schema (lakehouse.schemas) instead of a column list."""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

Transform = Callable[[DataFrame], DataFrame]


def select_schema(schema: StructType, **derived: Column) -> Transform:
    """Selects the fields of `schema` in order: `derived[name]` when given, else the column of that name."""
    names = schema.fieldNames()
    unknown = sorted(set(derived) - set(names))
    if unknown:
        raise ValueError(f"not in the schema: {', '.join(unknown)}")

    def transform(df: DataFrame) -> DataFrame:
        return df.select(*(derived[name].alias(name) if name in derived else F.col(name) for name in names))

    return transform
