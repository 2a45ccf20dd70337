"""Bounded retries of a Delta write refused as conflicting (lakehouse.sinks.retry), with Delta's own
exception classes."""
from __future__ import annotations

import logging

import pytest

from lakehouse.sinks.retry import retry_conflicts


def conflict(kind: str = "ConcurrentAppendException"):
    from delta import exceptions

    return getattr(exceptions, kind)(desc=f"{kind}: a concurrent update", stackTrace="")


class Write:
    """A write that fails with the given conflicts, one per call, then returns 'committed'."""

    def __init__(self, *failures):
        self.failures, self.calls = list(failures), 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "committed"


def test_conflicts_are_retried_and_each_retry_is_logged_with_its_kind(spark, caplog):
    caplog.set_level(logging.WARNING, "lakehouse.sinks.retry")
    write = Write(conflict(), conflict("ConcurrentDeleteReadException"))
    assert retry_conflicts(write, "MERGE into t", backoff_s=0.01) == "committed"
    assert write.calls == 3
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        "MERGE into t: commit refused by a concurrent writer (ConcurrentAppendException)",
        "MERGE into t: commit refused by a concurrent writer (ConcurrentDeleteReadException)",
    ]


def test_the_last_conflict_is_raised_once_the_attempts_are_spent(spark):
    from delta.exceptions import MetadataChangedException

    write = Write(*(conflict("MetadataChangedException") for _ in range(3)))
    with pytest.raises(MetadataChangedException):
        retry_conflicts(write, "MERGE into t", attempts=3, backoff_s=0.01)
    assert write.calls == 3


def test_give_up_raises_the_conflict_at_once_and_other_errors_are_not_retried(spark):
    from delta.exceptions import ConcurrentTransactionException

    write = Write(conflict("ConcurrentTransactionException"))
    with pytest.raises(ConcurrentTransactionException):
        retry_conflicts(write, "MERGE into t", give_up=lambda: True, backoff_s=0.01)
    assert write.calls == 1
    broken = Write(ValueError("not a conflict"))
    with pytest.raises(ValueError, match="not a conflict"):
        retry_conflicts(broken, "MERGE into t", backoff_s=0.01)
    assert broken.calls == 1
