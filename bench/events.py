"""user_events payloads at benchmark speed, and the two producers that send them.

The payload has the `user_events` contract's shape (lakehouse.generators.records.user_event: the
same fields, kinds and allowed values), built from pre-computed pools and serialised with orjson,
so a core makes about a million a second. Event ids are unique per (run salt, index); a share of
records are exact re-sends of an earlier record of the same producer (what retries look like),
so silver must hold exactly `distinct` rows.

    python -m bench.events preload --topic T --first 0 --count N --salt S --set ...   # as fast as possible
    python -m bench.events rate --topic T --phases 5000:180,20000:180 --report F ...  # fixed rates, then idle rate
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys
import time
from dataclasses import dataclass
from typing import Optional

import orjson

from lakehouse.generators.records import COUNTRIES, DEVICES
from lakehouse.schemas.user_events import EVENT_TYPES

USERS = 100_000
DUPLICATE_EVERY = 50          # every 50th record re-sends an earlier one: 2% duplicates
TIMESTAMP_POOL = 3600         # event times spread over the hour before the run


@dataclass
class Batch:
    """What one producer sent: records, distinct event ids among them, payload bytes."""

    records: int = 0
    distinct: int = 0
    payload_bytes: int = 0


class EventFactory:
    """Builds payload bytes for event indexes; `salt` keeps ids unique across runs."""

    def __init__(self, salt: int, now: Optional[dt.datetime] = None):
        now = now or dt.datetime.now(dt.timezone.utc)
        start = now - dt.timedelta(seconds=TIMESTAMP_POOL)
        self.salt = salt
        self.timestamps = [
            (start + dt.timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S.") + f"{s % 1000:03d}Z"
            for s in range(TIMESTAMP_POOL)
        ]

    def event_id(self, index: int) -> str:
        return f"{self.salt:08x}-0000-4000-8000-{index:012x}"

    def payload(self, index: int) -> tuple[bytes, bytes]:
        """(key, value) of event `index`; the key is the user id, so a user stays on one partition."""
        user = str(index * 7919 % USERS + 1)
        value = orjson.dumps({
            "event_id": self.event_id(index),
            "user_id": user,
            "event_type": EVENT_TYPES[index % len(EVENT_TYPES)],
            "event_timestamp": self.timestamps[index % TIMESTAMP_POOL],
            "page_url": f"/p/{index % 500}",
            "device_type": DEVICES[index % len(DEVICES)],
            "country_code": COUNTRIES[index % len(COUNTRIES)],
            "event_properties": {"ab": "ab"[index % 2]},
            "schema_version": "1.0",
        })
        return user.encode(), value


def records(factory: EventFactory, first: int, count: int):
    """(key, value, is_new) for `count` records starting at index `first`, duplicates included."""
    index = first
    for position in range(count):
        if position % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 and index > first:
            key, value = factory.payload(index - 1 - position % 17 % (index - first))
            yield key, value, False
            continue
        key, value = factory.payload(index)
        index += 1
        yield key, value, True


def preload(cfg, topic: str, salt: int, first: int, count: int) -> Batch:
    """Sends `count` records as fast as the broker acknowledges them (acks=all, idempotent)."""
    from lakehouse.kafka.producer import EventProducer

    sent = Batch()
    with EventProducer(cfg, **{"queue.buffering.max.messages": "500000", "batch.size": "1000000"}) as producer:
        for key, value, is_new in records(EventFactory(salt), first, count):
            producer.send(topic, key, value)
            sent.records += 1
            sent.distinct += is_new
            sent.payload_bytes += len(value)
    return sent


def produce_at_rates(cfg, topic: str, salt: int, first: int, phases: list[tuple[float, float]],
                     idle_rate: float) -> dict:
    """Sends at each (rate, seconds) phase in turn, then at `idle_rate` (if not 0) until SIGTERM.

    Records are paced in 10 ms slices. Returns each phase's wall-clock window (epoch ms) and
    counts; the broker's CreateTime of a record falls inside the window of the phase that sent it.
    """
    from lakehouse.kafka.producer import EventProducer

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    factory = EventFactory(salt)
    stream = records(factory, first, 1 << 40)
    report = {"phases": [], "records": 0, "distinct": 0}
    with EventProducer(cfg) as producer:
        idle = [(idle_rate, float("inf"))] if idle_rate > 0 else []
        for rate, seconds in [*phases, *idle]:
            started = time.time()
            sent_before = report["records"]
            while not stop["now"] and time.time() - started < seconds:
                due = int(rate * (time.time() - started)) - (report["records"] - sent_before)
                for _ in range(max(due, 0)):
                    key, value, is_new = next(stream)
                    producer.send(topic, key, value)
                    report["records"] += 1
                    report["distinct"] += is_new
                time.sleep(0.01)
            report["phases"].append({"rate": rate, "start_ms": int(started * 1000), "end_ms": int(time.time() * 1000),
                                     "records": report["records"] - sent_before})
            if stop["now"]:
                break
    return report


def _phases(text: str) -> list[tuple[float, float]]:
    return [(float(rate), float(seconds)) for rate, seconds in (p.split(":") for p in text.split(",") if p)]


def main(argv=None) -> int:
    from lakehouse.runtime.entrypoint import parse_config

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("mode", choices=("preload", "rate"))
        parser.add_argument("--topic", required=True)
        parser.add_argument("--salt", type=int, required=True)
        parser.add_argument("--first", type=int, default=0, help="first event index")
        parser.add_argument("--count", type=int, default=0, help="preload: records to send")
        parser.add_argument("--phases", default="", help="rate: RATE:SECONDS,... in order")
        parser.add_argument("--idle-rate", type=float, default=100.0,
                            help="rate: records/s after the phases, until stopped (0: exit after the phases)")
        parser.add_argument("--report", help="write the JSON report here (default stdout)")

    cfg, args = parse_config("benchmark event producer", argv, add_arguments)
    if args.mode == "preload":
        sent = preload(cfg, args.topic, args.salt, args.first, args.count)
        report = {"records": sent.records, "distinct": sent.distinct, "payload_bytes": sent.payload_bytes}
    else:
        report = produce_at_rates(cfg, args.topic, args.salt, args.first, _phases(args.phases), args.idle_rate)
    text = json.dumps(report)
    if args.report:
        with open(args.report, "w") as out:
            out.write(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
