"""What the progress listener logs when a query ends: an error, unless the run will restart it."""
from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from lakehouse.streaming.progress import ProgressLogger

CONFLICT = ("org.apache.spark.sql.streaming.StreamingQueryException: [DELTA_METADATA_CHANGED] "
            "MetadataChangedException: The metadata of the Delta table has been changed\n\tat ...")


def terminated(exception):
    return SimpleNamespace(id="q-1", runId="r-1", exception=exception)


@pytest.mark.parametrize(("exception", "level", "words"), [
    (CONFLICT, logging.WARNING, "stopped on a Delta commit conflict"),
    ("java.lang.OutOfMemoryError: Java heap space\n\tat ...", logging.ERROR, "failed: java.lang.OutOfMemoryError"),
    (None, logging.INFO, "stopped"),
])
def test_a_query_ended_by_a_commit_conflict_is_a_warning_not_an_error(caplog, exception, level, words):
    with caplog.at_level(logging.INFO, logger="lakehouse.streaming"):
        ProgressLogger().onQueryTerminated(terminated(exception))
    (record,) = caplog.records
    assert record.levelno == level
    assert words in record.getMessage()
