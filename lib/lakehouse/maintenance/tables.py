"""OPTIMIZE and VACUUM of one Delta table, through Delta's Python API (no SQL text is assembled).

VACUUM never goes below Delta's 7-day default retention unless explicitly forced: files younger
than that may still be read by a running query, a streaming source that is behind, or a time
travel someone relies on. Delta itself refuses a shorter retention than the table's own
`delta.deletedFileRetentionDuration`; forcing lifts both checks for that one call.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Optional

from lakehouse.sinks.retry import retry_conflicts

DELTA_DEFAULT_RETENTION_HOURS = 168
RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"


class RetentionError(ValueError):
    """A VACUUM retention below the safe minimum was asked for without forcing it."""


def check_retention(retention_hours: Optional[int], force: bool) -> None:
    """Raises RetentionError for a negative retention, or one below 7 days that is not forced."""
    if retention_hours is None:
        return
    if retention_hours < 0:
        raise RetentionError(f"VACUUM retention must be 0 hours or more, got {retention_hours}")
    if retention_hours < DELTA_DEFAULT_RETENTION_HOURS and not force:
        raise RetentionError(
            f"VACUUM retention of {retention_hours} hours is below Delta's default of "
            f"{DELTA_DEFAULT_RETENTION_HOURS} hours (7 days): queries, lagging streams and time travel "
            "reading older versions would fail. Nothing was vacuumed. Use --force-retention to do it anyway."
        )


def is_delta_table(spark, path: str) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, path)


def optimize(spark, path: str, zorder_by: Sequence[str] = ()) -> dict[str, int]:
    """Compacts small files (Z-ordering by `zorder_by` when given); returns files removed and added.

    A writer that commits first (a MERGE rewriting files being compacted) makes the commit
    conflict; OPTIMIZE then runs again on the latest version, a bounded number of times."""
    from delta.tables import DeltaTable

    def run_once():
        builder = DeltaTable.forPath(spark, path).optimize()
        return builder.executeZOrderBy(*zorder_by) if zorder_by else builder.executeCompaction()

    result = retry_conflicts(run_once, f"OPTIMIZE {path}")
    metrics = result.select("metrics.numFilesRemoved", "metrics.numFilesAdded").first()
    return {"files_removed": int(metrics.numFilesRemoved), "files_added": int(metrics.numFilesAdded)}


def vacuum(spark, path: str, retention_hours: Optional[int] = None, force: bool = False) -> dict[str, int]:
    """Deletes files no longer referenced by versions within the retention; returns how many went.

    Args:
        retention_hours: None keeps the table's own retention (delta.deletedFileRetentionDuration).
        force: allow a retention below 7 days (and below the table's own retention).
    """
    from delta.tables import DeltaTable

    with retention_check_lifted(spark, retention_hours, force):
        table = DeltaTable.forPath(spark, path)
        version_before = _latest_version(table)
        if retention_hours is None:
            table.vacuum()
        else:
            table.vacuum(float(retention_hours))
    return {"files_deleted": _deleted_files(table, version_before)}


@contextlib.contextmanager
def retention_check_lifted(spark, retention_hours: Optional[int], force: bool) -> Iterator[None]:
    """Checks the retention, and lifts Delta's retention check in the session while inside, when
    `force` asks for a retention below 7 days. The check is session-wide: a caller running VACUUMs in
    threads enters this once around them all (each VACUUM's own entry then restores it lifted)."""
    check_retention(retention_hours, force)
    if not (force and retention_hours is not None and retention_hours < DELTA_DEFAULT_RETENTION_HOURS):
        yield
        return
    previous = spark.conf.get(RETENTION_CHECK, "true")
    spark.conf.set(RETENTION_CHECK, "false")
    try:
        yield
    finally:
        spark.conf.set(RETENTION_CHECK, previous)


def _latest_version(table) -> int:
    return int(table.history(1).select("version").first().version)


def _deleted_files(table, version_before: int) -> int:
    """Files deleted, from the VACUUM END entry Delta logs in the table's history."""
    from pyspark.sql import functions as F

    is_vacuum_end = (F.col("version") > version_before) & (F.col("operation") == "VACUUM END")
    rows = table.history().where(is_vacuum_end).select("operationMetrics").collect()
    return sum(int(row.operationMetrics.get("numDeletedFiles", 0)) for row in rows)
