"""A table path whose `_delta_log` exists but holds no commit yet.

Delta's create takes such a path for an existing table and does nothing; the table's first read then
fails with DELTA_TABLE_NOT_FOUND. The log is either another job's create under way (bronze and silver
creating the same bronze table as they start together) or what a create killed before its first
commit left behind, which would otherwise block the table for good.
"""
from __future__ import annotations

import logging
import time

from lakehouse.spark.hadoop_fs import filesystem

log = logging.getLogger(__name__)

FIRST_COMMIT_WAIT_S = 20.0  # a create commits within a second of making its log; this allows a busy driver
POLL_S = 0.2


class UnbornTableLog(RuntimeError):
    """A table's `_delta_log` holds files but never got its first commit."""


def await_first_commit(spark, path: str) -> bool:
    """Waits for the first commit of the table at `path` while its log holds none: True once it comes.

    False when it did not come in FIRST_COMMIT_WAIT_S and the log held no file: the log, left by a create
    that died before writing anything, is removed so the table can be created. Raises UnbornTableLog
    when the log holds files but no commit: that needs an operator's look.
    """
    deadline = time.monotonic() + FIRST_COMMIT_WAIT_S
    while not _committed(spark, path):
        if time.monotonic() > deadline:
            _clear_empty_log(spark, path)
            return False
        time.sleep(POLL_S)
    return True


def _clear_empty_log(spark, path: str) -> None:
    fs, log_path = filesystem(spark, f"{path.rstrip('/')}/_delta_log")
    if fs.listFiles(log_path, True).hasNext():
        raise UnbornTableLog(f"{path}: _delta_log holds files but no commit after {FIRST_COMMIT_WAIT_S:.0f} s; "
                             "a create may have died mid-commit. If the table never held data, remove "
                             "_delta_log and start the job again.")
    log.warning("%s: _delta_log left empty by a create that died; removing it to create the table", path)
    fs.delete(log_path, True)


def is_table_not_found(error) -> bool:
    """`error` (a pyspark AnalysisException) is Delta's for a path holding no table (no log, or a log
    without a commit)."""
    return error.getErrorClass() == "DELTA_TABLE_NOT_FOUND"


def _committed(spark, path: str) -> bool:
    """Reads the log afresh (DeltaTable.isDeltaTable keeps the answer its driver first cached)."""
    from pyspark.errors import AnalysisException

    try:
        spark.read.format("delta").load(path)
    except AnalysisException as error:
        if not is_table_not_found(error):
            raise
        return False
    return True
