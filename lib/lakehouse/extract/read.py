"""Spark's JDBC read of one window of a source table.

The `dbtable` subquery is the only SQL text built here: quoted, catalog-checked names, and a
WHERE clause from `window.spark_predicate`. Every column is aliased to c0..cN inside it, so the
SQL that Spark generates around it (its column list, partition ranges) never contains a source
name; the DataFrame gets the real names back afterwards. Reads are read-only at the driver
level (`readOnly`), stream with `fetchsize` (without it the Postgres driver buffers the whole
result in memory), and split by an integer column when `num_partitions` > 1.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from lakehouse.config.model import PostgresConfig
from lakehouse.extract.identifiers import SourceTable, quote_ident


@dataclass(frozen=True)
class PartitionPlan:
    """Spark's partitioned JDBC read: `num_partitions` strides between `lower` and `upper`.

    Rows outside the bounds still land in the first or last partition, so the bounds only
    balance the work; every row is read exactly once whatever they are.
    """

    column: str
    lower: int
    upper: int
    num_partitions: int


def window_query(table: SourceTable, predicate: str, columns: Sequence[str]) -> str:
    """The subquery Spark reads: `columns` aliased c0..cN, rows matching `predicate`."""
    items = ", ".join(f"{quote_ident(name)} AS c{i}" for i, name in enumerate(columns))
    # The one SQL text built from strings: catalog-checked, quoted names and a predicate whose
    # values come only from literals.sql_literal (Spark's JDBC source has no bind parameters).
    return f"(SELECT {items} FROM {table.qualified} WHERE {predicate}) AS extract_window"  # noqa: S608


def jdbc_read_options(table: SourceTable, predicate: str, fetch_size: int,
                      partitions: Optional[PartitionPlan] = None,
                      columns: Optional[Sequence[str]] = None) -> dict[str, str]:
    """Spark JDBC options for the window, credentials excluded (`PostgresConfig.jdbc_options`)."""
    selected = list(columns or [c.name for c in table.columns])
    options = {
        "dbtable": window_query(table, predicate, selected),
        "fetchsize": str(fetch_size),
        "readOnly": "true",
        "readOnlyMode": "always",
    }
    if partitions is not None and partitions.num_partitions > 1:
        options.update({
            "partitionColumn": f"c{selected.index(partitions.column)}",
            "lowerBound": str(partitions.lower),
            "upperBound": str(partitions.upper),
            "numPartitions": str(partitions.num_partitions),
        })
    return options


def read_window(spark, pg: PostgresConfig, table: SourceTable, predicate: str, fetch_size: int,
                partitions: Optional[PartitionPlan] = None, columns: Optional[Sequence[str]] = None):
    """The window as a DataFrame with the source's column names, in the source's column order."""
    selected = list(columns or [c.name for c in table.columns])
    options = jdbc_read_options(table, predicate, fetch_size, partitions, selected)
    return spark.read.format("jdbc").options(**pg.jdbc_options()).options(**options).load().toDF(*selected)
