"""Reads benchmark tables with deltalake and pyarrow (no Spark in the harness process)."""
from __future__ import annotations

from collections.abc import Sequence


def read_columns(table_path: str, columns: Sequence[str]):
    """The table's current rows, only `columns`, as a pyarrow Table."""
    from deltalake import DeltaTable

    return DeltaTable(table_path).to_pyarrow_table(columns=list(columns))


def distinct_values(table_path: str, column: str) -> int:
    """How many distinct non-null values `column` holds."""
    import pyarrow.compute as pc

    return pc.count_distinct(read_columns(table_path, [column]).column(column)).as_py()
