"""One table's erasure: a DELETE of the person's rows per partition, each retried on Delta conflicts.

A DELETE conflicts with every commit that adds files where it reads, so one DELETE over the whole
table would lose, retry after retry, to an always-on stream appending to today's partition. One
DELETE per partition that holds the person (oldest first) reads only that partition: only the
newest can meet the stream, and it is small.

On bronze (`delta.appendOnly=true`) the guard is lifted for the table's DELETEs only and set back in
`finally`; a run that died in between left it off, so every run first repairs it
(`restore_append_only`) and a run that cannot set it back fails.
"""
from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from lakehouse.erasure.targets import ErasureTarget
from lakehouse.sinks.retry import retry_conflicts

log = logging.getLogger(__name__)

APPEND_ONLY = "delta.appendOnly"


class AppendOnlyError(RuntimeError):
    """An append-only table could not be made append-only again."""


@dataclass(frozen=True)
class TableErasure:
    """What the erasure did to one table."""

    table: str
    rows_removed: int
    rows_unattributed: int   # raw rows whose person could not be read (null or unparsable value)
    version: int             # the table's version after the erasure


def person_column(spark, target: ErasureTarget):
    """The person's id of each row: the column, or (raw tables) the field read out of the JSON value."""
    from pyspark.sql import functions as F

    if target.raw:
        return F.trim(F.get_json_object(F.col("value").cast("string"), f"$.{target.column}"))
    return F.col(target.column).cast("string")


def erase_rows(spark, target: ErasureTarget, user_ids: Sequence[str]) -> TableErasure:
    """Deletes the rows of `user_ids` (validated decimal ids) from the table, one commit per partition
    holding them; each retried on conflicts."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    person = person_column(spark, target)
    table = DeltaTable.forPath(spark, target.path)
    theirs = person.isin(*user_ids)
    partitioned_by = table.detail().first().partitionColumns
    found = (table.toDF().groupBy(*partitioned_by)
             .agg(F.count_if(theirs).alias("theirs"), F.count_if(person.isNull()).alias("unknown")).collect())
    unattributed = sum(int(row.unknown) for row in found) if target.raw else 0
    partitions = sorted((row for row in found if row.theirs), key=lambda row: [str(row[c]) for c in partitioned_by])
    if not partitions:
        return TableErasure(target.name, 0, unattributed, _version(table))  # no commit, guard untouched

    def delete(where) -> int:
        before = _version(table)
        table.delete(where)
        return _deleted_rows(table, before)

    removed = 0
    with lifted_append_only(spark, target.path) if target.append_only else contextlib.nullcontext():
        for row in partitions:
            where = theirs & in_partition(row, partitioned_by)
            values = ", ".join(f"{column}={row[column]}" for column in partitioned_by)
            removed += retry_conflicts(functools.partial(delete, where), f"erasure of {target.name} {values}".strip())
    return TableErasure(target.name, removed, unattributed, _version(table))


def in_partition(row, columns: Sequence[str]):
    """The filter of the partition `row` names (a literal filter, so Delta reads that partition only)."""
    from pyspark.sql import functions as F

    where = F.lit(True)
    for column in columns:
        where = where & (F.col(column).isNull() if row[column] is None else F.col(column) == F.lit(row[column]))
    return where


@contextlib.contextmanager
def lifted_append_only(spark, path: str) -> Iterator[None]:
    """`delta.appendOnly=false` for the body only; set back to true however the body ends."""
    _set_append_only(spark, path, False)
    try:
        yield
    finally:
        _set_append_only(spark, path, True)


def restore_append_only(spark, target: ErasureTarget) -> bool:
    """Sets an append-only table's guard back if an interrupted run left it off; True if it did."""
    if not target.append_only or is_append_only(spark, target.path):
        return False
    log.warning("%s: delta.appendOnly was off (an interrupted erasure?): setting it back", target.name)
    _set_append_only(spark, target.path, True)
    if not is_append_only(spark, target.path):
        raise AppendOnlyError(f"{target.name}: delta.appendOnly could not be set back to true")
    return True


def is_append_only(spark, path: str) -> bool:
    from delta.tables import DeltaTable

    properties = DeltaTable.forPath(spark, path).detail().select("properties").first().properties or {}
    return properties.get(APPEND_ONLY, "false").lower() == "true"


def _set_append_only(spark, path: str, on: bool) -> None:
    statement = f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('{APPEND_ONLY}' = '{str(on).lower()}')"
    retry_conflicts(lambda: spark.sql(statement), f"{APPEND_ONLY}={str(on).lower()} on {path}")


def _version(table) -> int:
    return int(table.history(1).select("version").first().version)


def _deleted_rows(table, version_before: int) -> int:
    """Rows our DELETE removed, from its commit's metrics (0 when it found nothing to commit)."""
    from pyspark.sql import functions as F

    ours = (F.col("version") > version_before) & (F.col("operation") == "DELETE")
    rows = table.history().where(ours).orderBy("version").select("operationMetrics").limit(1).collect()
    return int(rows[0].operationMetrics.get("numDeletedRows", 0)) if rows else 0
