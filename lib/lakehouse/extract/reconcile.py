"""Reconciliation: what incremental runs cannot see, found by comparing keys (keys only, no writes).

- hard deletes: a cursor never sees a deleted row. The target is read at a version pinned before
  the source's keys are read, so every key it holds existed in the source earlier: a key missing
  from the later read was deleted (or its key was changed). `--mode full-refresh` applies them.
- not yet extracted: source rows at or below the stored position whose key the target lacks. The
  position only moves forward, so such a row (inserted with a cursor behind it: an application
  clock behind the database's, an explicit past value, a table without the trigger) is never read
  by an incremental run; the job fails on them (README). The version is pinned after the position
  is read, so it holds every row the position covers.
"""
from __future__ import annotations

from typing import Any, Optional

from lakehouse.config.model import Config
from lakehouse.extract.modes import TableRun, partition_plan
from lakehouse.extract.position import Position
from lakehouse.extract.read import read_window
from lakehouse.extract.state import read_state, table_version
from lakehouse.extract.transforms import filter_absent_keys
from lakehouse.extract.window import Window, spark_predicate

SAMPLE_SIZE = 20


class ReconcileError(RuntimeError):
    """Nothing to reconcile against."""


def reconcile(spark, cfg: Config, run: TableRun, conn) -> dict[str, Any]:
    """Counts target keys absent from the source (hard deletes) and source rows the position passed by."""
    if table_version(spark, run.target) is None:
        raise ReconcileError(f"{run.name}: {run.target} is not a Delta table yet; run an extract first")
    state = read_state(spark, run.target, run.app, run.source)
    version = table_version(spark, run.target)
    keys = list(run.source.primary_key)
    target_keys = spark.read.format("delta").option("versionAsOf", version).load(run.target).select(*keys)
    source_keys = read_window(spark, cfg.postgres, run.source, "TRUE", run.spec.fetch_size,
                              partition_plan(conn, run, Window()), columns=keys).localCheckpoint(eager=True)
    deleted = target_keys.transform(filter_absent_keys(source_keys, keys)).localCheckpoint(eager=True)
    missed = _keys_behind(spark, cfg, run, conn, state.position).transform(filter_absent_keys(target_keys, keys))
    missed = missed.localCheckpoint(eager=True)
    return {
        "rows_read": source_keys.count(),
        "old_position": state.position,
        "new_position": state.position,
        "delta_version": version,
        "hard_deletes": deleted.count(),
        "hard_delete_sample": _sample(deleted, keys),
        "not_yet_extracted": missed.count(),
        "not_yet_extracted_sample": _sample(missed, keys),
    }


def _keys_behind(spark, cfg: Config, run: TableRun, conn, position: Optional[Position]):
    """Source keys of the rows at or below `position` (none when nothing was extracted yet)."""
    window = Window(through=position)
    predicate = "FALSE" if position is None else spark_predicate(window, run.source)
    return read_window(spark, cfg.postgres, run.source, predicate, run.spec.fetch_size,
                       partition_plan(conn, run, window), columns=list(run.source.primary_key))


def _sample(df, keys: list) -> tuple:
    rows = df.orderBy(*keys).limit(SAMPLE_SIZE).collect()
    return tuple(row[0] if len(keys) == 1 else tuple(row) for row in rows)
