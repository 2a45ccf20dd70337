"""Reconciliation: which keys of the Delta table are gone from the source (hard deletes).

A cursor never sees a deleted row, so incremental runs cannot; comparing keys can. The target
is read at a version pinned before the source's keys are read, so every key it holds existed in
the source earlier: a key missing from the later read was deleted (or its key was changed).
The run reports, it does not write; `--mode full-refresh` applies the deletes (README).
"""
from __future__ import annotations

from typing import Any

from lakehouse.config.model import Config
from lakehouse.extract.modes import TableRun, partition_plan
from lakehouse.extract.read import read_window
from lakehouse.extract.state import read_state, table_version
from lakehouse.extract.transforms import filter_absent_keys
from lakehouse.extract.window import Window

SAMPLE_SIZE = 20


class ReconcileError(RuntimeError):
    """Nothing to reconcile against."""


def reconcile(spark, cfg: Config, run: TableRun, conn) -> dict[str, Any]:
    """Counts target keys absent from the source (hard deletes) and source keys not yet extracted."""
    version = table_version(spark, run.target)
    if version is None:
        raise ReconcileError(f"{run.name}: {run.target} is not a Delta table yet; run an extract first")
    state = read_state(spark, run.target, run.app, run.source)
    keys = list(run.source.primary_key)
    target_keys = spark.read.format("delta").option("versionAsOf", version).load(run.target).select(*keys)
    source_keys = read_window(spark, cfg.postgres, run.source, "TRUE", run.spec.fetch_size,
                              partition_plan(conn, run, Window()), columns=keys).localCheckpoint(eager=True)
    deleted = target_keys.transform(filter_absent_keys(source_keys, keys)).localCheckpoint(eager=True)
    sample = [row[0] if len(keys) == 1 else tuple(row) for row in deleted.orderBy(*keys).limit(SAMPLE_SIZE).collect()]
    return {
        "rows_read": source_keys.count(),
        "old_position": state.position,
        "new_position": state.position,
        "delta_version": version,
        "hard_deletes": deleted.count(),
        "hard_delete_sample": tuple(sample),
        "not_yet_extracted": source_keys.transform(filter_absent_keys(target_keys, keys)).count(),
    }
