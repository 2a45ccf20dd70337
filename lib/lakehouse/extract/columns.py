"""The target follows the source's columns: an added column reaches it, a dropped one stops the run.

Checked at the start of every writing run, before anything is read. A column the source gained is
added to the target first (one commit that changes only the schema: older rows hold null there
until a full refresh fills them); the run's own commit then carries its values. A column the
source lost fails the run with the column named, in every mode: an incremental merge would keep
stale values, a full refresh would write nulls. Type changes of existing columns are not handled.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from lakehouse.config.model import Config
from lakehouse.extract.read import read_window

if TYPE_CHECKING:
    from lakehouse.extract.modes import TableRun


class SchemaChangeError(RuntimeError):
    """The source lost columns the target has; nothing was read or written."""


def follow_source_columns(spark, cfg: Config, run: TableRun) -> tuple[str, ...]:
    """Adds the source's new columns to the target, if it exists; returns their names.

    Raises:
        SchemaChangeError: naming the target's columns the source no longer has.
    """
    target = target_columns(spark, run.target)
    if target is None:
        return ()
    source = [column.name for column in run.source.columns]
    dropped = [name for name in target if name not in source]
    if dropped:
        raise SchemaChangeError(
            f"{run.name}: column(s) {dropped} of the target {run.target} are no longer in the source table "
            f"{run.source.display}; nothing was read or written. If the drop is intended, move the target "
            "aside and run --mode full-refresh (it creates the table from the source's columns)"
        )
    added = [name for name in source if name not in target]
    if added:  # the JDBC source maps their types (a metadata query, no rows read)
        fields = read_window(spark, cfg.postgres, run.source, "FALSE", run.spec.fetch_size, columns=added).schema
        _add_columns(spark, run.target, fields)
    return tuple(added)


def target_columns(spark, path: str) -> Optional[list[str]]:
    """The Delta table's column names, from its log on the driver (None: no table yet)."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return None
    jvm = spark.sparkContext._jvm
    delta_log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    snapshot = delta_log.update(False, jvm.scala.Option.empty(), jvm.scala.Option.empty())
    return list(snapshot.schema().fieldNames())


def _add_columns(spark, path: str, fields) -> None:
    """One commit that only adds `fields` (as nullable columns) to the Delta table at `path`."""
    from lakehouse.extract.transforms import nullable_schema

    empty = spark.createDataFrame([], nullable_schema(fields))
    empty.write.format("delta").mode("append").option("mergeSchema", "true").save(path)
