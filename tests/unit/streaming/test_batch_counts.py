"""The batch counts silver's and quarantine's commits carry, as a re-run batch reads them back."""
from __future__ import annotations

import datetime as dt

import pytest

from lakehouse.sinks.commits import Commit, metadata_json
from lakehouse.streaming.silver_batch import batch_counts, recorded_counts


def commit_with(user_metadata) -> Commit:
    return Commit(version=3, operation="MERGE", user_metadata=user_metadata)


def test_counts_read_back_as_committed():
    newest = dt.datetime(2024, 6, 1, 10, 0, 0, 250_000)
    metadata = batch_counts(5, 2, newest, {"malformed_json": 1, "missing_field": 1})

    counts = recorded_counts(commit_with(metadata_json(metadata)))

    assert counts == {"rows_in": 5, "rejected": 2, "newest_accepted": "2024-06-01T10:00:00.250000",
                      "by_reason": {"malformed_json": 1, "missing_field": 1}}
    assert dt.datetime.fromisoformat(counts["newest_accepted"]) == newest


@pytest.mark.parametrize("user_metadata", [None, "a note in plain text", '["a list"]', '{"other": 1}'],
                         ids=["none", "text", "json_list", "other_json"])
def test_commits_without_counts_have_none(user_metadata):
    assert recorded_counts(commit_with(user_metadata)) is None
    assert recorded_counts(None) is None
