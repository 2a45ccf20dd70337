"""What the lake must hold, computed from the records the broker acknowledged, never by the library's transforms.

Each acknowledged record is known by its Kafka position, its bytes and, when malformed, the reason it
must be refused with. Rows are multisets (Counters) of tuples, so a row written twice shows up.
- bronze: every position once, with its bytes; quarantine: every malformed record once, with its reason;
- silver.user_events and silver.system_metrics: the first copy (lowest offset) of each event or sample;
- silver.transactions: the newest version of each transaction;
- silver.fraud_review: the transactions the fraud rules of streaming.fraud flag, scored here from the
  payloads. An amount over its currency's threshold flags every version, so the newest one is reviewed.
  The velocity rule counts the transactions known when a version is scored, which depends on the
  micro-batches; here it can only say which transactions it may flag (those it flags with every
  transaction known).
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from lakehouse.config.model import FraudConfig
from lakehouse.generators.records import EVENTS, METRICS, TRANSACTIONS
from lakehouse.generators.traffic import Record
from lakehouse.kafka.producer import DeliveryReport
from lakehouse.schemas.system_metrics import SAMPLE_KEY

EVENT_COLUMNS = ("event_id", "user_id", "event_type", "event_timestamp", "kafka_partition", "kafka_offset")
TRANSACTION_COLUMNS = ("transaction_id", "user_id", "amount", "currency", "status", "updated_at")
METRIC_COLUMNS = (*SAMPLE_KEY, "metric_value", "kafka_partition", "kafka_offset")
# A review row is one produced version of its transaction, read at one of its Kafka positions.
REVIEW_COLUMNS = (*TRANSACTION_COLUMNS, "kafka_partition", "kafka_offset")


@dataclass(frozen=True)
class Produced:
    """One acknowledged record."""

    contract: str
    partition: int
    offset: int
    value: Optional[bytes]
    expected_reason: Optional[str]

    def fields(self, names: tuple[str, ...]) -> tuple:
        payload = {**json.loads(self.value), "kafka_partition": self.partition, "kafka_offset": self.offset}
        return tuple(payload[name] for name in names)


@dataclass(frozen=True)
class ReviewTruth:
    over_threshold: Counter   # TRANSACTION_COLUMNS of the newest version: each must be reviewed, once
    may_be_flagged: set[str]  # transaction ids the velocity rule may flag
    versions: Counter         # REVIEW_COLUMNS of every produced copy of every version


def acknowledged(records: list[Record], report: DeliveryReport) -> list[Produced]:
    assert len(report.positions) == len(records), f"{len(report.positions)} of {len(records)} records acknowledged"
    return [Produced(record.contract, *report.positions[index], record.value, record.expected_reason)
            for index, record in enumerate(records)]


def valid(produced: list[Produced], contract: str) -> list[Produced]:
    return [p for p in produced if p.contract == contract and p.expected_reason is None]


def bronze_rows(produced: list[Produced], contract: str) -> Counter:
    return Counter((p.partition, p.offset, p.value) for p in produced if p.contract == contract)


def quarantine_rows(produced: list[Produced], contract: str) -> Counter:
    return Counter((p.partition, p.offset, (p.expected_reason,))
                   for p in produced if p.contract == contract and p.expected_reason is not None)


def first_copies(records: list[Produced], key: tuple[str, ...], columns: tuple[str, ...]) -> Counter:
    """`columns` of the copy at the lowest position of each key."""
    first: dict[tuple, Produced] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        first.setdefault(record.fields(key), record)
    return Counter(record.fields(columns) for record in first.values())


def newest_versions(records: list[Produced]) -> Counter:
    newest: dict[str, tuple] = {}
    for row in (record.fields(TRANSACTION_COLUMNS) for record in records):
        if row[0] not in newest or row[5] > newest[row[0]][5]:  # ISO times in one format sort as times
            newest[row[0]] = row
    return Counter(newest.values())


def user_event_rows(produced: list[Produced]) -> Counter:
    return first_copies(valid(produced, EVENTS), ("event_id",), EVENT_COLUMNS)


def metric_rows(produced: list[Produced]) -> Counter:
    return first_copies(valid(produced, METRICS), SAMPLE_KEY, METRIC_COLUMNS)


def transaction_rows(produced: list[Produced]) -> Counter:
    return newest_versions(valid(produced, TRANSACTIONS))


def review_truth(produced: list[Produced], rules: FraudConfig) -> ReviewTruth:
    transactions = valid(produced, TRANSACTIONS)
    newest = newest_versions(transactions)
    over = Counter(row for row in newest if is_over_threshold(row, rules))
    return ReviewTruth(over, velocity_candidates(transactions, rules),
                       Counter(t.fields(REVIEW_COLUMNS) for t in transactions))


def is_over_threshold(row: tuple, rules: FraudConfig) -> bool:
    """The amount of a TRANSACTION_COLUMNS row is above its currency's threshold (none: never)."""
    limit = rules.amount_thresholds.get(row[3])
    return limit is not None and Decimal(row[2]) > Decimal(str(limit))


def velocity_candidates(transactions: list[Produced], rules: FraudConfig) -> set[str]:
    """Ids with more than velocity_max_transactions of the user's distinct transactions in the window
    ending at their own timestamp, counting every transaction produced."""
    at_by_user: dict[str, dict[str, dt.datetime]] = defaultdict(dict)
    for record in transactions:
        transaction_id, user_id, at = record.fields(("transaction_id", "user_id", "transaction_timestamp"))
        at_by_user[user_id][transaction_id] = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    window = dt.timedelta(minutes=rules.velocity_window_minutes)
    return {
        transaction_id
        for times in at_by_user.values()
        for transaction_id, at in times.items()
        if sum(at - window <= other <= at for other in times.values()) > rules.velocity_max_transactions
    }
