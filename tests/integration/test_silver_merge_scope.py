"""Silver's MERGE reads only the batch's partitions, and finding them costs the batch no Spark job of its
own: they are observed while the batch's rows are computed (lakehouse.sinks.scope.checkpointed_with_scope).
So are the batch's counts, its refused rows per reason class and quarantine's partitions, while the batch is
read and parsed."""
from __future__ import annotations

import datetime as dt

import pytest

from lakehouse.sinks import delta
from lakehouse.sinks.commits import Commit
from lakehouse.streaming import silver_batch
from lakehouse.streaming.silver_batch import handle_silver_batch
from lakehouse.transforms.parsing import parse_records
from tests.integration.streaming_support import contract_plan
from tests.unit.streaming.conftest import INGESTED_AT, bronze_df, payload

EVENT = {"event_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "user_id": "42", "event_type": "login",
         "event_timestamp": "2024-05-31T10:00:00Z", "schema_version": "1.0"}
TXN = {"transaction_id": "t1", "user_id": "7", "amount": "25.00", "currency": "USD", "status": "pending",
       "transaction_timestamp": "2024-05-31T10:00:00Z", "created_at": "2024-05-31T10:00:00Z",
       "updated_at": "2024-05-31T10:00:00Z", "schema_version": "1.0"}
# Each contract's two rows fall on two days, and its second row's key differs from the first's.
CASES = {
    "user_events": (EVENT, {**EVENT, "event_id": "1f8fad5b-d9cb-469f-a165-70867728950e",
                            "event_timestamp": "2024-06-01T10:00:00Z"}),
    "transaction_events": (TXN, {**TXN, "transaction_id": "t2", "transaction_timestamp": "2024-06-01T10:00:00Z"}),
}


def no_scope_job(source, spec):
    raise AssertionError("the MERGE's scope was found by a Spark job of its own")


@pytest.mark.parametrize("contract", sorted(CASES))
def test_the_silver_merge_names_the_batchs_partitions_without_a_job_to_find_them(spark, tmp_path, monkeypatch,
                                                                                contract):
    plan = contract_plan(spark, tmp_path, contract)
    batch = bronze_df(spark, [payload(**fields) for fields in CASES[contract]])
    for module in (delta, silver_batch):  # the MERGE's own look-up, and the one review shared
        monkeypatch.setattr(module, "source_scope", no_scope_job, raising=False)

    report = handle_silver_batch(batch.transform(parse_records(plan.contract, 1_000_000)), 0, plan)

    assert (report.rows_in, report.inserted) == (2, 2)
    predicate = (spark.sql(f"DESCRIBE HISTORY delta.`{plan.silver.path}`").where("operation = 'MERGE'")
                 .select("operationParameters.predicate").first()[0])
    column, _, days = predicate.partition(" IN (")
    assert plan.contract.silver_partition in column, predicate
    assert "2024-05-31" in days, predicate
    assert "2024-06-01" in days, predicate


def test_a_batchs_counts_and_newest_accepted_timestamp_are_observed_as_its_rows_hold_them(spark, tmp_path):
    plan = contract_plan(spark, tmp_path, "user_events")
    later, latest = INGESTED_AT + dt.timedelta(seconds=1, microseconds=250), INGESTED_AT + dt.timedelta(days=1)
    first, second = CASES["user_events"]
    batch = (bronze_df(spark, [payload(**first)], partition=0)
             .unionByName(bronze_df(spark, [payload(**second)], partition=1, ingested_at=later))
             .unionByName(bronze_df(spark, ["{not json"], partition=2, ingested_at=latest)))  # refused: not newest

    report = handle_silver_batch(batch.transform(parse_records(plan.contract, 1_000_000)), 0, plan)

    assert (report.rows_in, report.quarantined, report.inserted) == (3, 1, 2)
    assert report.newest_accepted == later  # naive local time, as a collected row holds it
    predicate = (spark.sql(f"DESCRIBE HISTORY delta.`{plan.quarantine.path}`").where("operation = 'MERGE'")
                 .select("operationParameters.predicate").first()[0])
    assert str(latest.date()) in predicate, predicate  # the refused row's ingest day
    assert str(INGESTED_AT.date()) not in predicate, predicate


def refused_by_reason(spark, plan, values, monkeypatch, counted_by_a_job: bool) -> dict:
    """The rows per reason class the handler reports and commits to quarantine for a batch of `values`;
    fails if it counts them with a Spark job of their own (reason_counts) unless `counted_by_a_job`."""
    counted = []

    def reason_counts(batch):
        if not counted_by_a_job:
            raise AssertionError("the batch's reasons were counted by a Spark job of their own")
        counted.append(batch)
        return real_reason_counts(batch)

    real_reason_counts = silver_batch.reason_counts
    monkeypatch.setattr(silver_batch, "reason_counts", reason_counts)
    batch = bronze_df(spark, values).transform(parse_records(plan.contract, 1_000_000))
    report = handle_silver_batch(batch, 0, plan)

    assert bool(counted) == counted_by_a_job
    history = spark.sql(f"DESCRIBE HISTORY delta.`{plan.quarantine.path}`").where("operation = 'MERGE'")
    committed = silver_batch.recorded_counts(Commit(0, "MERGE", history.select("userMetadata").first()[0]))
    assert committed["by_reason"] == report.quarantined_by_reason
    return report.quarantined_by_reason


def test_a_batchs_refused_rows_per_reason_class_are_observed_while_it_is_read(spark, tmp_path, monkeypatch):
    plan = contract_plan(spark, tmp_path, "transaction_events")
    spark.sql(f"DELETE FROM delta.`{plan.fx_rates_path}` WHERE currency = 'EUR'")  # EUR amounts: no rate
    both = {**TXN, "transaction_id": "t3", "status": "lost", "updated_at": "2024-05-30T10:00:00Z"}
    no_status = {k: v for k, v in TXN.items() if k != "status"}
    values = ["{not json", payload(**both), payload(**no_status), payload(**{**TXN, "currency": "EUR"}),
              payload(**{**TXN, "transaction_id": "t4"})]

    by_reason = refused_by_reason(spark, plan, values, monkeypatch, counted_by_a_job=False)

    assert by_reason == {"malformed_json": 1, "not_allowed": 1, "updated_at_before_created_at": 1,
                         "missing_field": 1, "fx_rate_missing": 1}


def test_a_reason_class_the_handler_does_not_know_is_counted_by_a_job(spark, tmp_path, monkeypatch):
    plan = contract_plan(spark, tmp_path, "user_events")
    monkeypatch.setattr(silver_batch, "known_reasons", lambda plan: ("malformed_json",))
    no_user = {k: v for k, v in CASES["user_events"][0].items() if k != "user_id"}

    by_reason = refused_by_reason(spark, plan, ["{not json", payload(**no_user)], monkeypatch, counted_by_a_job=True)

    assert by_reason == {"malformed_json": 1, "missing_field": 1}
