"""What one extract run did, as one log line an operator (or Airflow) can read."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from lakehouse.extract.position import Position
from lakehouse.ops.metrics import seconds_since


@dataclass(frozen=True)
class RunSummary:
    """Figures of one run of one table.

    Attributes:
        rows_read: rows the JDBC read returned (0 when the run found nothing to read).
        rows_merged: target rows the commit inserted, updated or deleted.
        old_position, new_position: the live position before and after (equal for a backfill
            or a reconciliation, which never move it).
        upper_bound: the late-commit-safe bound the run stopped below (incremental, full refresh).
        held_back_by: what kept the bound below now() - safety_delay, if anything.
        more_pending: the per-run row limit stopped the run before the bound.
        delta_version: the commit that holds the data and the position (None: nothing committed);
            for a reconciliation, the version compared with the source.
        columns_added: source columns the run added to the target (null in its older rows).
        spark_jobs: Spark jobs the run started (0 for an empty incremental run).
        hard_deletes, hard_delete_sample: reconciliation: target keys the source no longer has.
        not_yet_extracted, not_yet_extracted_sample: reconciliation: source rows at or below the
            position whose key the target lacks; incremental runs will never read them.
    """

    table: str
    mode: str
    rows_read: int = 0
    rows_merged: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    old_position: Optional[Position] = None
    new_position: Optional[Position] = None
    upper_bound: Optional[dt.datetime] = None
    held_back_by: Optional[str] = None
    more_pending: bool = False
    delta_version: Optional[int] = None
    columns_added: tuple = ()
    spark_jobs: int = 0
    elapsed_s: float = 0.0
    hard_deletes: Optional[int] = None
    not_yet_extracted: Optional[int] = None
    hard_delete_sample: tuple = ()
    not_yet_extracted_sample: tuple = ()

    def figures(self) -> list[tuple[str, float, str]]:
        """(metric, value, unit) of the run for lakehouse.ops.metrics. PositionAge: how old the newest
        row extracted is; HeldBack: how far below now the late-commit bound stopped the run."""
        figures = [("RowsRead", self.rows_read, "Count"), ("RowsMerged", self.rows_merged, "Count")]
        if self.new_position is not None:
            figures.append(("PositionAge", seconds_since(_utc(self.new_position.cursor)), "Seconds"))
        if self.upper_bound is not None:
            figures.append(("HeldBack", seconds_since(_utc(self.upper_bound)), "Seconds"))
        if self.not_yet_extracted is not None:
            figures.append(("NotYetExtracted", self.not_yet_extracted, "Count"))
        if self.hard_deletes is not None:
            figures.append(("HardDeletes", self.hard_deletes, "Count"))
        return figures

    def line(self) -> str:
        parts = [
            f"postgres-extract {self.table} [{self.mode}]",
            f"rows_read={self.rows_read}",
            f"rows_merged={self.rows_merged} (inserted={self.inserted} updated={self.updated} deleted={self.deleted})",
            f"position {_show(self.old_position)} -> {_show(self.new_position)}",
        ]
        if self.upper_bound is not None:
            parts.append(f"upper_bound={self.upper_bound.isoformat()}")
        if self.held_back_by:
            parts.append(f"held_back_by=[{self.held_back_by}]")
        if self.columns_added:
            parts.append(f"columns_added={list(self.columns_added)}")
        if self.more_pending:
            parts.append("more_pending=true")
        if self.hard_deletes is not None:
            parts.append(f"hard_deletes={self.hard_deletes} sample={list(self.hard_delete_sample)}")
            parts.append(f"not_yet_extracted={self.not_yet_extracted} sample={list(self.not_yet_extracted_sample)}")
        parts.append(f"delta_version={self.delta_version} spark_jobs={self.spark_jobs} elapsed={self.elapsed_s:.2f}s")
        return " ".join(parts)


def _utc(moment: dt.datetime) -> dt.datetime:
    """A cursor value as an aware time: naive cursors hold UTC (the extract's assumption)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def _show(position: Optional[Position]) -> str:
    return "none" if position is None else position.describe()
