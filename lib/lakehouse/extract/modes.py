"""The three writing modes: incremental, full refresh and backfill of a cursor range.

Each returns the figures of its RunSummary. Everything that can refuse to run (names, values,
the stored state, columns the source dropped, the late-commit guard) is checked before the first
Spark job. Columns the source added are added to the target first (extract.columns).
"""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Optional

from lakehouse.config.model import Config, ExtractTableConfig
from lakehouse.extract.bounds import end_position, has_rows, partition_range, upper_bound
from lakehouse.extract.columns import follow_source_columns
from lakehouse.extract.identifiers import SourceTable
from lakehouse.extract.read import PartitionPlan, read_window
from lakehouse.extract.state import METADATA_KEY, app_id, commit_metadata, read_state
from lakehouse.extract.transforms import nullable_schema
from lakehouse.extract.window import Window, spark_predicate
from lakehouse.ops.phases import phase
from lakehouse.sinks.delta import (
    MergeSpec,
    TableSpec,
    Txn,
    last_txn_version,
    merge_into,
    overwrite_with,
    table_rows,
)
from lakehouse.sinks.retry import commit_conflicts


class ConcurrentRunError(RuntimeError):
    """Another run of the same extract committed first; this run wrote nothing.

    Raised whether Delta skipped this run's write (the other run had already committed its
    transaction) or refused its commit as a conflict (both were writing at the same moment).
    """


@dataclass(frozen=True)
class TableRun:
    """One table's run, every name already resolved in the catalog."""

    name: str
    spec: ExtractTableConfig
    source: SourceTable
    target: str  # Delta table path
    guard: str
    safety_delay_s: float
    cursor_offset: dt.timedelta = dt.timedelta(0)  # a `timestamp` cursor's wall clock minus UTC

    @property
    def app(self) -> str:
        return app_id(self.source)


def incremental(spark, cfg: Config, run: TableRun, conn) -> dict[str, Any]:
    """Reads the rows after the committed position, up to the last row below the safe bound."""
    state, added = _state_and_columns(spark, cfg, run)
    with phase("bounds"):
        bound = upper_bound(conn, run.guard, run.safety_delay_s)
        end, more = end_position(conn, run.source, state.position, bound, run.spec.max_rows_per_run,
                                 run.cursor_offset)
    figures = {"old_position": state.position, "new_position": state.position, "columns_added": added,
               "upper_bound": bound.value, "held_back_by": bound.held_back_by}
    if end is None:  # nothing new below the bound: no Spark job, no commit (added columns are committed)
        return figures
    metadata = commit_metadata(run.app, state.next_txn_version, "incremental", end, run.source,
                               upper_bound=bound.value, previous_commit=state.table_version)
    written = _read_and_merge(spark, cfg, run, conn, Window(after=state.position, through=end),
                              MergeSpec(keys=run.source.primary_key, newer_column=run.source.cursor),
                              Txn(run.app, state.next_txn_version), metadata)
    return {**figures, **written, "new_position": end, "more_pending": more}


def full_refresh(spark, cfg: Config, run: TableRun, conn) -> dict[str, Any]:
    """Makes the target equal to the whole source table in one overwrite commit, so keys the source
    lost are gone too (the figures count them as deleted).

    The new position is the last row below the safe bound, not the last row read: rows of
    transactions still open may yet commit below later rows, and the next incremental run must
    still find them (rows read twice merge to the same result).
    """
    state, added = _state_and_columns(spark, cfg, run)
    with phase("bounds"):
        bound = upper_bound(conn, run.guard, run.safety_delay_s)
        end, _ = end_position(conn, run.source, None, bound, None, run.cursor_offset)
    metadata = commit_metadata(run.app, state.next_txn_version, "full-refresh", end, run.source,
                               upper_bound=bound.value)
    written = _read_and_overwrite(spark, cfg, run, conn, Txn(run.app, state.next_txn_version), metadata)
    return {"old_position": state.position, "new_position": end, "upper_bound": bound.value,
            "held_back_by": bound.held_back_by, "columns_added": added, **written}


def backfill(spark, cfg: Config, run: TableRun, conn, since, until: Optional[Any]) -> dict[str, Any]:
    """Re-reads rows with since <= cursor < until and merges them (newest wins).

    The commit carries no transaction identifier of the extract, so the live position, found
    through that identifier, does not move.
    """
    state, added = _state_and_columns(spark, cfg, run)
    window = Window(cursor_from=since, cursor_before=until)
    figures = {"old_position": state.position, "new_position": state.position, "columns_added": added}
    with phase("bounds"):
        found = has_rows(conn, run.source, window)
    if not found:
        return figures
    metadata = {METADATA_KEY: {"mode": "backfill", "since": since, "until": until}}
    written = _read_and_merge(spark, cfg, run, conn, window,
                              MergeSpec(keys=run.source.primary_key, newer_column=run.source.cursor),
                              None, metadata)
    return {**figures, **written}


def _state_and_columns(spark, cfg: Config, run: TableRun):
    """The committed state, then the target following the source's columns (their names)."""
    with phase("state"):
        state = read_state(spark, run.target, run.app, run.source)
    with phase("columns"):
        added = follow_source_columns(spark, cfg, run)
    return state, added


def partition_plan(conn, run: TableRun, window: Window) -> Optional[PartitionPlan]:
    """Configured bounds, else the partition column's range inside the window (one indexed query)."""
    spec = run.spec
    if spec.partition_column is None or spec.num_partitions <= 1:
        return None
    if spec.partition_lower is not None and spec.partition_upper is not None:
        bounds = (spec.partition_lower, spec.partition_upper)
    else:
        bounds = partition_range(conn, run.source, window)
    return None if bounds is None else PartitionPlan(spec.partition_column, *bounds, spec.num_partitions)


def may_repeat_keys(run: TableRun) -> bool:
    """Can one read return a key twice? Only a read split by a column outside the key: its
    partitions are separate queries, and a row whose column changed between them is in two."""
    spec = run.spec
    return (spec.partition_column is not None and spec.num_partitions > 1
            and spec.partition_column not in run.source.primary_key)


def _window_rows(spark, cfg: Config, run: TableRun, conn, window: Window):
    """The JDBC read of the window (lazy) and the target's table spec."""
    df = read_window(spark, cfg.postgres, run.source, spark_predicate(window, run.source),
                     run.spec.fetch_size, partition_plan(conn, run, window))
    return df, TableSpec(run.target, nullable_schema(df.schema), properties=target_properties(cfg, run))


def target_properties(cfg: Config, run: TableRun) -> dict[str, str]:
    """Table properties of a target the extract creates: file statistics only on the columns that
    something filters by (the key: MERGE; the cursor: reconcile and backfill; the person column:
    erasure; the Z-order columns: OPTIMIZE) that the source has, instead of Delta's first 32
    columns. Every file written, by a full refresh or a MERGE's rewrite, computes them."""
    maintained = cfg.maintenance.tables.get(f"{run.spec.target_layer}.{run.spec.target_name}")
    wanted = [*run.source.primary_key, run.source.cursor, run.spec.person_column,
              *(maintained.zorder_by if maintained else ())]
    present = {column.name for column in run.source.columns}
    columns = list(dict.fromkeys(name for name in wanted if name in present))
    quoted = ("`" + name.replace("`", "``") + "`" for name in columns)
    return {"delta.dataSkippingStatsColumns": ",".join(quoted)}


def _read(spark, cfg: Config, run: TableRun, conn, window: Window):
    """(rows, rows read, table spec): the window read once and kept on the executors, one row per key."""
    from lakehouse.transforms.dedup import dedupe_latest

    with phase("read_plan"):
        df, table = _window_rows(spark, cfg, run, conn, window)
    # One JDBC read, kept on the executors (memory, then disk) and never recomputed: the rows
    # counted are the rows written, however often the write scans its source.
    with phase("jdbc_read"):
        rows = df.localCheckpoint(eager=True)
        rows_read = rows.count()
    if may_repeat_keys(run):
        rows = rows.transform(dedupe_latest(run.source.primary_key, [run.source.cursor]))
    return rows, rows_read, table


def _read_and_merge(spark, cfg: Config, run: TableRun, conn, window: Window, merge_spec: MergeSpec,
                    txn: Optional[Txn], metadata: dict) -> dict[str, Any]:
    source, rows_read, table = _read(spark, cfg, run, conn, window)
    with phase("merge"), _race_lost_to_another_run(spark, run, txn):
        outcome = merge_into(source, table, merge_spec, txn, metadata, source_is_materialized=True)
    _check_committed(run, txn, outcome)
    return {"rows_read": rows_read, "inserted": outcome.inserted, "updated": outcome.updated,
            "deleted": outcome.deleted, "rows_merged": outcome.inserted + outcome.updated + outcome.deleted,
            "delta_version": outcome.table_version if outcome.committed else None}


def _read_and_overwrite(spark, cfg: Config, run: TableRun, conn, txn: Txn, metadata: dict) -> dict[str, Any]:
    """The whole table into the target. Into an empty target (a first load) the rows stream from
    JDBC straight into the Delta files, in one pass; otherwise they are read once, compared by key
    with the target's (for the figures), then written."""
    with phase("target_rows"):
        target_rows = _row_count(spark, run.target)
    if target_rows == 0 and not may_repeat_keys(run):
        with phase("read_plan"):
            df, table = _window_rows(spark, cfg, run, conn, Window())
        with phase("jdbc_read_and_write"), _race_lost_to_another_run(spark, run, txn):
            outcome = overwrite_with(df, table, txn, metadata)
        _check_committed(run, txn, outcome)
        return {"rows_read": outcome.inserted, "inserted": outcome.inserted, "updated": 0, "deleted": 0,
                "rows_merged": outcome.inserted, "delta_version": outcome.table_version}
    source, rows_read, table = _read(spark, cfg, run, conn, Window())
    with phase("key_changes"):
        inserted, updated, deleted = key_changes(spark, run.target, target_rows, source, run.source.primary_key)
    with phase("write"), _race_lost_to_another_run(spark, run, txn):
        outcome = overwrite_with(source, table, txn, metadata)
    _check_committed(run, txn, outcome)
    return {"rows_read": rows_read, "inserted": inserted, "updated": updated, "deleted": deleted,
            "rows_merged": inserted + updated + deleted, "delta_version": outcome.table_version}


def _row_count(spark, path: str) -> int:
    """Rows of the Delta table at `path`; 0 when there is no table yet."""
    from delta.tables import DeltaTable

    return table_rows(spark, path) if DeltaTable.isDeltaTable(spark, path) else 0


def key_changes(spark, target_path: str, target_rows: int, source, keys) -> tuple[int, int, int]:
    """(inserted, updated, deleted) if `source` replaced the target of `target_rows` rows: keys
    new, kept, and gone."""
    source_rows = source.count()
    if target_rows == 0:
        return source_rows, 0, 0
    target_keys = spark.read.format("delta").load(target_path).select(*keys)
    kept = source.select(*keys).join(target_keys, list(keys), "left_semi").count()
    return source_rows - kept, kept, target_rows - kept


def _check_committed(run: TableRun, txn: Optional[Txn], outcome) -> None:
    """A write Delta skipped: another run committed this transaction before ours began to write."""
    if txn is not None and not outcome.committed:
        raise _concurrent_run_error(run, txn)


@contextlib.contextmanager
def _race_lost_to_another_run(spark, run: TableRun, txn: Optional[Txn]) -> Iterator[None]:
    """A commit Delta refused as conflicting, when another run committed this transaction meanwhile:
    the same lost race as a skipped write, so the same error. Other conflicts (maintenance, a
    backfill) were retried by the write itself; one that outlasted the retries passes unchanged."""
    try:
        yield
    except commit_conflicts() as conflict:
        if txn is None or not _another_run_committed(spark, run, txn):
            raise
        raise _concurrent_run_error(run, txn) from conflict


def _another_run_committed(spark, run: TableRun, txn: Txn) -> bool:
    committed = last_txn_version(spark, run.target, txn.app_id)
    return committed is not None and committed >= txn.version


def _concurrent_run_error(run: TableRun, txn: Txn) -> ConcurrentRunError:
    return ConcurrentRunError(
        f"{run.name}: another run of this extract committed transaction {txn.app_id}/{txn.version} "
        "first; this run wrote nothing, and the next one continues from that run's position"
    )
