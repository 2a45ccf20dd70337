"""silver.fraud_review holds exactly the flagged silver.transactions rows, after every run and after a replay.

A replay (the silver checkpoint moved aside, bronze read again from its start under a new app id)
scores old versions again against today's history: user 9's 12:05 purchase now has five earlier
ones beside it and would be flagged, but silver keeps the version it holds (same version: no
update), so review must not gain it. A newer version that is no longer flagged must leave review.
"""
from __future__ import annotations

import os

import pytest

from lakehouse.schemas import CONTRACTS
from lakehouse.streaming.silver import start_silver
from lakehouse.streaming.tables import silver_checkpoint
from tests.integration.streaming_support import silver_options, stream_config, table
from tests.integration.test_streaming_transactions import run_round, txn

COLUMNS = ("transaction_id", "user_id", "amount", "currency", "amount_usd", "status", "transaction_timestamp",
           "updated_at", "fraud_reasons", "kafka_partition", "kafka_offset")


def rows(df) -> list[tuple]:
    """The review columns of every row, as a sorted list (a repeat would show twice)."""
    return sorted(tuple(str(value) for value in row) for row in df.select(*COLUMNS).collect())


def assert_review_is_the_flagged_silver_rows(spark, cfg) -> list[tuple]:
    flagged = rows(table(spark, cfg, "silver", "transactions").where("is_flagged"))
    assert rows(table(spark, cfg, "silver", "fraud_review")) == flagged
    return flagged


@pytest.mark.timeout(300)
def test_review_equals_the_flagged_silver_rows_after_a_replay(spark, tmp_path, new_topic):
    topic = new_topic(partitions=2, prefix="review")
    cfg = stream_config(tmp_path, {"transaction_events": topic})
    run_round(spark, cfg, [
        txn("v5", 9, 5),                                      # user 9 at 12:05: alone so far, not flagged
        txn("big", 3, 0, amount="9500.00", currency="EUR"),  # over the EUR threshold: flagged
        txn("huge", 4, 0, amount="25000.00"),                # over the USD threshold: flagged, and stays so
    ])
    run_round(spark, cfg, [
        *(txn(f"v{i}", 9, i) for i in range(5)),              # 12:00..12:04, late: five, not more than five
        txn("big", 3, 0, "completed", updated_minute=3, amount="95.00", currency="EUR"),  # corrected: not flagged
    ])
    flagged = assert_review_is_the_flagged_silver_rows(spark, cfg)
    assert [row[0] for row in flagged] == ["huge"]

    checkpoint = silver_checkpoint(cfg, CONTRACTS["transaction_events"])
    os.rename(checkpoint, f"{checkpoint}.moved")
    start_silver(spark, cfg, silver_options("transaction_events")).wait(until_all_done=True)

    assert assert_review_is_the_flagged_silver_rows(spark, cfg) == flagged
