"""The silver foreachBatch handler replayed: with transaction ids a re-run batch changes nothing.

The handler is called directly on a small batch (parsed bronze rows; or, as the stream hands it over,
bronze rows and the plan's parse), twice with the same batch id. The same checks run against handlers
without the idempotence, to show they would catch a duplicate or a regression.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from pyspark.sql import functions as F

from lakehouse.schemas import CONTRACTS
from lakehouse.sinks.delta import last_txn_version
from lakehouse.streaming import silver_batch
from lakehouse.streaming.silver_batch import handle_silver_batch, silver_app_id, write_silver_batch
from lakehouse.transforms.parsing import PARSED_COLUMNS, filter_accepted, parse_records
from lakehouse.transforms.transactions import enrich_amount_usd
from tests.integration.streaming_support import new_checkpoint, transactions_plan
from tests.unit.streaming.conftest import bronze_df, payload

CONTRACT = CONTRACTS["transaction_events"]
TXN = {"transaction_id": "t1", "user_id": "7", "amount": "25.00", "currency": "USD", "status": "pending",
       "transaction_timestamp": "2024-06-01T10:00:00Z", "created_at": "2024-06-01T10:00:00Z",
       "updated_at": "2024-06-01T10:00:00Z", "schema_version": "1.0"}
FLAGGED = {**TXN, "transaction_id": "t2", "amount": "25000.00"}  # over the USD threshold: review gets a row


def batch_of(spark, *values, first_offset: int = 0):
    rows = bronze_df(spark, [None] * first_offset + list(values)).where(f"kafka_offset >= {first_offset}")
    return rows.transform(parse_records(CONTRACT, 1_000_000))


def unreadable(batch):
    """The batch, failing if the handler reads it."""
    return batch.withColumn("kafka_offset", F.raise_error(F.lit("the replay read the batch")).cast("long"))


@pytest.fixture
def plan(spark, tmp_path):
    return transactions_plan(spark, tmp_path)


def snapshot(spark, plan) -> dict:
    """Each table's Delta version and rows (keys and versions), the state a replay must not change."""
    state = {}
    for spec in (plan.silver, plan.quarantine, plan.review):
        history = spark.sql(f"DESCRIBE HISTORY delta.`{spec.path}`").selectExpr("max(version)").first()[0]
        rows = sorted(tuple(str(v) for v in r) for r in spark.read.format("delta").load(spec.path)
                      .drop("processed_at", "quarantined_at", "flagged_at").collect())
        state[spec.path.rsplit("/", 2)[-2] + "." + spec.path.rsplit("/", 1)[-1]] = (history, rows)
    return state


def assert_unchanged(before: dict, after: dict) -> None:
    for name in before:
        assert after[name][1] == before[name][1], f"{name}: rows changed"
        assert after[name][0] == before[name][0], f"{name}: a new table version was committed"


def test_a_batch_replayed_with_the_same_id_changes_nothing(spark, plan):
    batch = batch_of(spark, payload(**TXN), b"{broken", payload(**FLAGGED))
    first = handle_silver_batch(batch, 5, plan)
    assert (first.quarantined, first.inserted, first.flagged, first.skipped_writes) == (1, 2, 1, 0)
    before = snapshot(spark, plan)
    assert len(before["silver.transactions"][1]) == 2
    assert len(before["quarantine.transaction_events"][1]) == 1

    replay = handle_silver_batch(batch, 5, plan)

    assert replay.skipped_writes == 3  # quarantine, silver and review: all skipped by Delta
    assert_unchanged(before, snapshot(spark, plan))
    app_id = silver_app_id(spark, plan.checkpoint)
    assert last_txn_version(spark, plan.silver.path, app_id) == 5


def test_a_replayed_batch_committed_in_full_is_skipped_without_reading_it(spark, plan):
    batch = batch_of(spark, payload(**TXN), b"{broken")
    handle_silver_batch(batch, 5, plan)  # quarantine, silver and, last, the quality row
    before = snapshot(spark, plan)

    replay = handle_silver_batch(unreadable(batch), 5, plan)

    assert (replay.rows_in, replay.skipped_writes) == (0, 2)  # quarantine and silver; review had nothing
    assert_unchanged(before, snapshot(spark, plan))


def test_bronze_rows_are_parsed_by_the_plan_and_only_when_the_batch_is_read(spark, plan):
    parsing = dataclasses.replace(plan, parse=parse_records(CONTRACT, 1_000_000))  # as lakehouse.streaming.silver
    rows = bronze_df(spark, [payload(**TXN), b"{broken", payload(**FLAGGED)]).select(*PARSED_COLUMNS)

    first = handle_silver_batch(rows, 5, parsing)

    assert (first.rows_in, first.quarantined, first.inserted, first.flagged) == (3, 1, 2, 1)
    before = snapshot(spark, plan)
    assert sorted(row[0] for row in before["silver.transactions"][1]) == ["t1", "t2"]
    assert [any("{broken" in value for value in row) for row in before["quarantine.transaction_events"][1]] == [True]
    replay = handle_silver_batch(unreadable(rows), 5, parsing)
    assert (replay.rows_in, replay.skipped_writes) == (0, 3)
    assert_unchanged(before, snapshot(spark, plan))


def failing(message: str):
    """A stand-in for a handler step that fails as a killed driver's would."""
    def fail(*args, **kwargs):
        raise RuntimeError(message)
    return fail


@contextlib.contextmanager
def refusing(*names: str) -> Iterator[None]:
    """Inside the block, the handler's functions `names` raise when called: work a replay must not do."""
    with pytest.MonkeyPatch.context() as patch:
        for name in names:
            def refuse(*args, name=name, **kwargs):
                raise AssertionError(f"the replay called {name}")
            patch.setattr(silver_batch, name, refuse)
        yield


def killed_before_its_quality_row(spark, plan, batch, batch_id: int = 5) -> None:
    """Runs the batch as a driver killed after its writes and before its quality row."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(silver_batch, "record_batch_checks", failing("driver killed before the quality row"))
        with pytest.raises(RuntimeError, match="driver killed"):
            handle_silver_batch(batch, batch_id, plan)
    assert last_txn_version(spark, plan.quality_results, silver_app_id(spark, plan.checkpoint)) is None


def quality_rows(spark, plan) -> list[tuple]:
    checks = spark.read.format("delta").load(plan.quality_results)
    return [tuple(row) for row in checks.select("rows_checked", "rows_failed", "detail").collect()]


@pytest.mark.parametrize(("values", "counts", "skipped", "detail"), [
    ((payload(**TXN), b"{broken", payload(**FLAGGED)), (3, 1), 3, "quarantined: malformed_json=1"),
    ((payload(**FLAGGED),), (1, 0), 2, ""),  # silver and review; nothing to quarantine
    ((b"{broken",), (1, 1), 1, "quarantined: malformed_json=1"),  # quarantine only
], ids=["mixed", "accepted_only", "rejected_only"])
def test_a_replay_whose_writes_committed_but_not_its_quality_row_writes_it_without_reading_the_batch(
        spark, plan, values, counts, skipped, detail):
    batch = batch_of(spark, *values)
    killed_before_its_quality_row(spark, plan, batch)
    before = snapshot(spark, plan)

    with refusing("write_silver_batch"):
        replay = handle_silver_batch(unreadable(batch), 5, plan)

    assert (replay.rows_in, replay.quarantined, replay.skipped_writes) == (*counts, skipped)
    assert replay.quarantined_by_reason == ({"malformed_json": 1} if counts[1] else {})
    assert_unchanged(before, snapshot(spark, plan))
    assert quality_rows(spark, plan) == [(*counts, detail)]
    assert last_txn_version(spark, plan.quality_results, silver_app_id(spark, plan.checkpoint)) == 5


def test_a_replay_finds_its_counts_behind_other_writers_commits(spark, plan):
    batch = batch_of(spark, payload(**TXN), b"{broken", payload(**FLAGGED))
    killed_before_its_quality_row(spark, plan, batch)
    for spec in (plan.quarantine, plan.silver):  # e.g. a maintenance job's commits after the batch's
        spark.sql(f"ALTER TABLE delta.`{spec.path}` SET TBLPROPERTIES ('lakehouse.test.touched' = 'yes')")

    with refusing("write_silver_batch"):
        replay = handle_silver_batch(unreadable(batch), 5, plan)

    assert (replay.rows_in, replay.quarantined) == (3, 1)
    assert quality_rows(spark, plan) == [(3, 1, "quarantined: malformed_json=1")]


def test_a_replay_of_commits_without_counts_reads_the_batch_and_writes_only_the_quality_row(spark, plan):
    batch = batch_of(spark, payload(**TXN), b"{broken", payload(**FLAGGED))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(silver_batch, "batch_counts", lambda *counts: None)  # as an earlier release committed
        killed_before_its_quality_row(spark, plan, batch)
    before = snapshot(spark, plan)

    with refusing("silver_rows", "merge_into", "mirror_into_review"):
        replay = handle_silver_batch(batch, 5, plan)

    assert (replay.rows_in, replay.quarantined, replay.skipped_writes) == (3, 1, 3)
    assert replay.quarantined_by_reason == {"malformed_json": 1}
    assert_unchanged(before, snapshot(spark, plan))
    assert quality_rows(spark, plan) == [(3, 1, "quarantined: malformed_json=1")]


def test_a_replay_whose_review_did_not_commit_computes_silvers_rows_and_writes_review(spark, plan):
    batch = batch_of(spark, payload(**TXN), b"{broken", payload(**FLAGGED))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(silver_batch, "mirror_into_review", failing("driver killed before review's MERGE"))
        with pytest.raises(RuntimeError, match="driver killed"):
            handle_silver_batch(batch, 5, plan)
    assert len(snapshot(spark, plan)["silver.fraud_review"][1]) == 0

    replay = handle_silver_batch(batch, 5, plan)

    assert (replay.skipped_writes, replay.inserted, replay.flagged) == (2, 0, 1)  # quarantine, silver
    reviewed = spark.read.format("delta").load(plan.review.path).select("transaction_id").collect()
    assert [row.transaction_id for row in reviewed] == ["t2"]


def test_a_replayed_first_batch_counts_its_committed_writes(spark, plan):
    batch = batch_of(spark, payload(**TXN), b"{broken")
    handle_silver_batch(batch, 0, plan)  # batch id 0: Delta's recorded version is 0

    replay = handle_silver_batch(batch, 0, plan)

    assert (replay.rows_in, replay.skipped_writes) == (0, 2)


def test_without_transaction_ids_a_replay_commits_again_and_the_check_catches_it(spark, plan):
    batch = batch_of(spark, payload(**TXN))
    write_silver_batch(batch, 5, plan, txn=None)
    before = snapshot(spark, plan)
    write_silver_batch(batch, 5, plan, txn=None)  # no idempotence per batch: only the MERGE keys remain
    with pytest.raises(AssertionError, match=r"silver\.transactions: a new table version was committed"):
        assert_unchanged(before, snapshot(spark, plan))


def test_a_plain_append_handler_duplicates_on_replay_and_the_check_catches_it(spark, plan):
    def naive_handler(batch_df, batch_id):
        """What foreachBatch without idempotence looks like: append whatever the batch holds."""
        rates = spark.read.format("delta").load(plan.fx_rates_path)
        accepted = batch_df.transform(enrich_amount_usd(rates)).transform(filter_accepted)
        rows = silver_batch.silver_rows(accepted, plan, F.current_timestamp())
        rows.write.format("delta").mode("append").save(plan.silver.path)

    batch = batch_of(spark, payload(**TXN))
    handle_silver_batch(batch, 0, plan)
    before = snapshot(spark, plan)
    naive_handler(batch, 0)
    with pytest.raises(AssertionError, match=r"silver\.transactions: rows changed"):
        assert_unchanged(before, snapshot(spark, plan))
    assert spark.read.format("delta").load(plan.silver.path).where("transaction_id = 't1'").count() == 2


@contextlib.contextmanager
def merge_failing(path: str, message: str) -> Iterator[None]:
    """Inside the block, the handler's MERGE into the table at `path` raises `message`; the others run."""
    real_merge = silver_batch.merge_into

    def merge(source, table, spec, txn=None, **kwargs):
        if table.path == path:
            raise RuntimeError(message)
        return real_merge(source, table, spec, txn, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(silver_batch, "merge_into", merge)
        yield


def test_a_batch_that_crashed_half_way_completes_on_replay_without_duplicates(spark, plan):
    batch = batch_of(spark, payload(**TXN), b"{broken")
    with merge_failing(plan.silver.path, "driver killed after the quarantine commit"), \
            pytest.raises(RuntimeError, match="driver killed"):
        handle_silver_batch(batch, 0, plan)

    replay = handle_silver_batch(batch, 0, plan)
    assert (replay.skipped_writes, replay.inserted) == (1, 1)  # the quarantine write had committed
    state = snapshot(spark, plan)
    assert [len(state[name][1]) for name in ("quarantine.transaction_events", "silver.transactions")] == [1, 1]


def test_a_batch_whose_quarantine_write_failed_beside_silver_fails_and_completes_on_replay(spark, plan):
    batch = batch_of(spark, payload(**TXN), b"{broken")
    with merge_failing(plan.quarantine.path, "quarantine MERGE failed"), \
            pytest.raises(RuntimeError, match="quarantine MERGE failed"):
        handle_silver_batch(batch, 0, plan)
    state = snapshot(spark, plan)
    assert [len(state[name][1]) for name in ("quarantine.transaction_events", "silver.transactions")] == [0, 1]
    assert last_txn_version(spark, plan.quality_results, silver_app_id(spark, plan.checkpoint)) is None, \
        "a batch with a failed write must not be recorded as done"

    replay = handle_silver_batch(batch, 0, plan)
    assert (replay.skipped_writes, replay.quarantined, replay.inserted) == (1, 1, 0)  # silver had committed
    state = snapshot(spark, plan)
    assert [len(state[name][1]) for name in ("quarantine.transaction_events", "silver.transactions")] == [1, 1]


def test_when_both_writes_fail_the_batch_fails_with_silvers_error_and_logs_quarantines(spark, plan, monkeypatch,
                                                                                          caplog):
    def fail(source, table, spec, txn=None, **kwargs):
        raise RuntimeError(f"{table.path.rsplit('/', 2)[-2]} MERGE failed")

    monkeypatch.setattr(silver_batch, "merge_into", fail)
    with pytest.raises(RuntimeError, match="silver MERGE failed"):
        handle_silver_batch(batch_of(spark, payload(**TXN), b"{broken"), 0, plan)
    assert "its quarantine write failed too: quarantine MERGE failed" in caplog.text


def test_a_new_checkpoint_gets_a_new_app_id_so_its_batch_0_is_not_skipped(spark, plan):
    handle_silver_batch(batch_of(spark, payload(**TXN)), 0, plan)
    old_app_id = silver_app_id(spark, plan.checkpoint)
    new_checkpoint(plan.checkpoint)  # the checkpoint was deleted and the query started again
    newer = {**TXN, "status": "completed", "updated_at": "2024-06-01T11:00:00Z"}

    report = handle_silver_batch(batch_of(spark, payload(**newer), first_offset=1), 0, plan)

    assert (report.skipped_writes, report.updated) == (0, 1)
    assert silver_app_id(spark, plan.checkpoint) != old_app_id
    row = spark.read.format("delta").load(plan.silver.path).first()
    assert (row.status, row.updated_at) == ("completed", dt.datetime(2024, 6, 1, 11))
