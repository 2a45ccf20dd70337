"""Synthetic traffic for the three topics, with the silver state it must produce (the truth).

Shares are of the records of each topic:
- duplicates: exact copies of earlier records, re-sent a little later (producer retries, replays);
- late: event time one to six hours behind the stream (a phone that was offline);
- out of order: swapped with a later record (including status updates sent before the original);
- updates: transactions that get one or two later versions (completed/failed, then refunded);
- malformed: records broken in one known way each (lakehouse.generators.malformed);
- large: transactions above every fraud threshold; bursts: users with a velocity spike.
Keys are user ids (hosts for metrics), so one user's records stay ordered on one partition.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Optional

from lakehouse.generators import records
from lakehouse.generators.malformed import break_record
from lakehouse.generators.records import EVENTS, METRICS, TRANSACTIONS


@dataclass(frozen=True)
class TrafficSpec:
    users: int = 200
    user_events: int = 1000
    transactions: int = 300
    system_metrics: int = 100
    duplicate_share: float = 0.05
    late_share: float = 0.05
    out_of_order_share: float = 0.1
    update_share: float = 0.3
    malformed_share: float = 0.02
    large_share: float = 0.01
    burst_share: float = 0.01
    seed: int = 7
    start: Optional[dt.datetime] = None  # first event time; default an hour ago


@dataclass(frozen=True)
class Record:
    contract: str
    key: Optional[bytes]
    value: Optional[bytes]
    expected_reason: Optional[str] = None  # set on malformed records


@dataclass
class Truth:
    """What silver must hold once every record is processed."""

    event_ids: set[str] = field(default_factory=set)
    transactions: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (updated_at, status)
    metric_keys: set[tuple[str, str, str, str]] = field(default_factory=set)
    duplicates: int = 0
    malformed: dict[str, int] = field(default_factory=lambda: {EVENTS: 0, TRANSACTIONS: 0, METRICS: 0})


@dataclass
class Traffic:
    records: list[Record]
    truth: Truth


def generate(spec: TrafficSpec) -> Traffic:
    rng = random.Random(spec.seed)
    start = spec.start or dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    truth = Truth()
    streams = [
        _user_events(rng, spec, start, truth),
        _transactions(rng, spec, start, truth),
        _metrics(rng, spec, start, truth),
    ]
    out: list[Record] = []
    for stream in streams:
        stream = _with_duplicates(rng, stream, spec.duplicate_share, truth)
        out.extend(_out_of_order(rng, stream, spec.out_of_order_share))
    return Traffic(out, truth)


def _tick(start: dt.datetime, index: int, total: int) -> dt.datetime:
    """Event times spread over the hour after `start`."""
    return start + dt.timedelta(seconds=3600 * index / max(total, 1))


def _maybe_broken(rng, spec, contract, payload, key, truth) -> Optional[Record]:
    if rng.random() >= spec.malformed_share:
        return None
    value, reason = break_record(rng, contract, payload)
    truth.malformed[contract] += 1
    return Record(contract, key, value, reason)


def _user_events(rng, spec: TrafficSpec, start, truth: Truth) -> list[Record]:
    out = []
    for i in range(spec.user_events):
        user = rng.randint(1, spec.users)
        at = _tick(start, i, spec.user_events)
        if rng.random() < spec.late_share:
            at -= dt.timedelta(minutes=rng.randint(60, 360))
        payload = records.user_event(rng, user, at, session_id=f"s-{user}-{i // 50}")
        key = str(user).encode()
        broken = _maybe_broken(rng, spec, EVENTS, payload, key, truth)
        if broken:
            out.append(broken)
            continue
        truth.event_ids.add(payload["event_id"])
        out.append(Record(EVENTS, key, records.encode(payload)))
    return out


def _transactions(rng, spec: TrafficSpec, start, truth: Truth) -> list[Record]:
    out: list[Record] = []
    pending_updates: list[tuple[int, Record]] = []  # (emit after this many more records, record)
    i = 0
    while i < spec.transactions:
        user = rng.randint(1, spec.users)
        burst = 6 if rng.random() < spec.burst_share else 1
        for _ in range(min(burst, spec.transactions - i)):
            at = _tick(start, i, spec.transactions) + dt.timedelta(seconds=rng.randint(0, 30))
            payload = records.transaction(rng, user, at, records.amount(rng, spec.large_share))
            key = str(user).encode()
            i += 1
            broken = _maybe_broken(rng, spec, TRANSACTIONS, payload, key, truth)
            if broken:
                out.append(broken)
                continue
            versions = [payload]
            if rng.random() < spec.update_share:
                final = rng.choice(["completed", "failed"])
                versions.append(records.status_update(payload, final, at + dt.timedelta(minutes=rng.randint(1, 30))))
                if final == "completed" and rng.random() < 0.3:
                    versions.append(records.status_update(payload, "refunded", at + dt.timedelta(hours=2)))
            latest = versions[-1]
            truth.transactions[payload["transaction_id"]] = (latest["updated_at"], latest["status"])
            out.append(Record(TRANSACTIONS, key, records.encode(payload)))
            for version in versions[1:]:
                pending_updates.append((rng.randint(1, 20), Record(TRANSACTIONS, key, records.encode(version))))
        ready = [r for wait, r in pending_updates if wait <= 0]
        pending_updates = [(wait - 1, r) for wait, r in pending_updates if wait > 0]
        out.extend(ready)
    out.extend(r for _, r in pending_updates)
    return out


def _metrics(rng, spec: TrafficSpec, start, truth: Truth) -> list[Record]:
    out = []
    for i in range(spec.system_metrics):
        host = f"host-{rng.randint(1, 12):02d}"
        payload = records.metric(rng, host, _tick(start, i, spec.system_metrics))
        key = host.encode()
        broken = _maybe_broken(rng, spec, METRICS, payload, key, truth)
        if broken:
            out.append(broken)
            continue
        sample = (payload["host"], payload["service"], payload["metric_name"], payload["metric_timestamp"])
        if sample in truth.metric_keys:
            continue  # the same sample twice by chance is a duplicate, not new data
        truth.metric_keys.add(sample)
        out.append(Record(METRICS, key, records.encode(payload)))
    return out


def _with_duplicates(rng, stream: list[Record], share: float, truth: Truth) -> list[Record]:
    """Re-sends a `share` of the valid records one to fifty positions later."""
    out: list[Record] = []
    later: list[tuple[int, Record]] = []  # (position to re-send after, record)
    for position, record in enumerate(stream):
        out.append(record)
        out.extend(copy for due, copy in later if due == position)
        later = [(due, copy) for due, copy in later if due != position]
        if record.expected_reason is None and rng.random() < share:
            later.append((position + rng.randint(1, 50), record))
            truth.duplicates += 1
    out.extend(copy for _, copy in later)
    return out


def _out_of_order(rng, stream: list[Record], share: float) -> list[Record]:
    """Swaps a `share` of records with one up to five positions later."""
    out = list(stream)
    for i in range(len(out) - 1):
        if rng.random() < share:
            j = min(len(out) - 1, i + rng.randint(1, 5))
            out[i], out[j] = out[j], out[i]
    return out
