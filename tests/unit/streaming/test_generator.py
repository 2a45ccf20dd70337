"""The traffic generator: its shares, its keys and the truth it reports."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from lakehouse.generators.traffic import TrafficSpec, generate

START = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)


def decoded(record):
    return json.loads(record.value) if record.value and record.expected_reason is None else None


def test_the_truth_matches_the_records_sent():
    traffic = generate(TrafficSpec(user_events=2000, transactions=800, system_metrics=300, seed=3, start=START))
    by_contract = Counter(r.contract for r in traffic.records)
    truth = traffic.truth
    valid_events = {decoded(r)["event_id"] for r in traffic.records if r.contract == "user_events" and decoded(r)}
    assert valid_events == truth.event_ids
    malformed = Counter(r.contract for r in traffic.records if r.expected_reason)
    assert dict(malformed) == {k: v for k, v in truth.malformed.items() if v}
    latest: dict[str, tuple[str, str]] = {}
    for record in traffic.records:
        txn = decoded(record) if record.contract == "transaction_events" else None
        if txn and (txn["transaction_id"] not in latest or txn["updated_at"] > latest[txn["transaction_id"]][0]):
            latest[txn["transaction_id"]] = (txn["updated_at"], txn["status"])
    assert latest == truth.transactions
    distinct_valid = {r.value for r in traffic.records if r.expected_reason is None}
    assert sum(by_contract.values()) == len(distinct_valid) + truth.duplicates + sum(truth.malformed.values())


def test_shares_are_roughly_honoured_and_keys_are_user_ids():
    spec = TrafficSpec(users=50, user_events=5000, transactions=0, system_metrics=0, duplicate_share=0.1,
                       malformed_share=0.05, seed=11, start=START)
    traffic = generate(spec)
    assert 400 < traffic.truth.duplicates < 600
    assert 180 < traffic.truth.malformed["user_events"] < 320
    for record in traffic.records:
        body = decoded(record)
        if body:
            assert record.key == body["user_id"].encode()
            assert 1 <= int(body["user_id"]) <= 50


def test_status_updates_sometimes_arrive_before_the_version_they_replace():
    traffic = generate(TrafficSpec(user_events=0, transactions=2000, system_metrics=0, seed=5, start=START))
    seen: dict[str, str] = {}
    regressions = 0
    for record in traffic.records:
        txn = decoded(record)
        if txn:
            previous = seen.get(txn["transaction_id"])
            regressions += previous is not None and txn["updated_at"] < previous
            seen[txn["transaction_id"]] = max(previous or "", txn["updated_at"])
    assert regressions > 0


def test_the_same_seed_gives_the_same_traffic():
    spec = TrafficSpec(user_events=300, transactions=100, system_metrics=50, seed=9, start=START)
    assert generate(spec).records == generate(spec).records
