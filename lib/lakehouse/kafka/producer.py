"""A Kafka producer that counts only what the broker acknowledged.

acks=all and enable.idempotence (no duplicates or reordering from retries), compression, an
optional rate limit, and delivery callbacks that count successes and failures. `flush` reports
success only after every record is acknowledged; anything failed or still unacknowledged after
the timeout raises ProduceError with the counts. Keys decide partitions, so producers key user
records by user id and one user's records stay in order on one partition.
"""
from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Optional

from lakehouse.config import Config
from lakehouse.kafka.client import client_config

MAX_ERRORS_KEPT = 20


class ProduceError(RuntimeError):
    """Some records were not acknowledged by the broker."""

    def __init__(self, report: DeliveryReport):
        errors = "; ".join(report.errors[:5])
        super().__init__(f"{report.failed} of {report.sent} records failed or were not acknowledged: {errors}")
        self.report = report


@dataclass
class DeliveryReport:
    sent: int = 0
    acknowledged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    # tag given to send() -> (partition, offset), for callers that need to find records again
    positions: dict[Hashable, tuple[int, int]] = field(default_factory=dict)


def producer_settings(cfg: Config, **overrides: str) -> dict[str, str]:
    producer = cfg.streaming.producer
    return client_config(
        cfg,
        **{
            "acks": "all",
            "enable.idempotence": "true",
            "compression.type": producer.compression,
            "linger.ms": str(producer.linger_ms),
            "delivery.timeout.ms": str(producer.delivery_timeout_ms),
            "message.max.bytes": str(producer.max_message_bytes),
            **overrides,
        },
    )


class EventProducer:
    """Sends records and tracks their acknowledgements; use as a context manager or call flush()."""

    def __init__(self, cfg: Config, rate_per_second: Optional[float] = None, **overrides: str):
        from confluent_kafka import Producer

        self._producer = Producer(producer_settings(cfg, **overrides))
        self._interval = 1.0 / rate_per_second if rate_per_second else 0.0
        self._next_send = time.monotonic()
        self.report = DeliveryReport()

    def send(self, topic: str, key: Optional[bytes], value: Optional[bytes], tag: Optional[Hashable] = None) -> None:
        """Queues one record (blocking while the local queue is full or the rate limit says wait)."""
        if self._interval:
            delay = self._next_send - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._next_send = max(self._next_send, time.monotonic() - 1.0) + self._interval
        callback = self._callback(tag)
        while True:
            try:
                self._producer.produce(topic, key=key, value=value, on_delivery=callback)
                break
            except BufferError:  # local queue full: serve callbacks until there is room
                self._producer.poll(0.1)
        self.report.sent += 1
        self._producer.poll(0)

    def flush(self, timeout_s: float = 60.0) -> DeliveryReport:
        """Waits for every acknowledgement; raises ProduceError unless all records were acknowledged."""
        remaining = self._producer.flush(timeout_s)
        unanswered = self.report.sent - self.report.acknowledged - self.report.failed
        if remaining or unanswered:
            self.report.failed += unanswered
            self.report.errors.append(f"{unanswered} record(s) not acknowledged within {timeout_s:.0f}s")
        if self.report.failed:
            raise ProduceError(self.report)
        return self.report

    def __enter__(self) -> EventProducer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.flush()
        else:
            self._producer.flush(10)

    def _callback(self, tag: Optional[Hashable]):
        def on_delivery(error, message) -> None:
            if error is not None:
                self.report.failed += 1
                if len(self.report.errors) < MAX_ERRORS_KEPT:
                    self.report.errors.append(f"{message.topic()}: {error.str()}")
                return
            self.report.acknowledged += 1
            if tag is not None:
                self.report.positions[tag] = (message.partition(), message.offset())

        return on_delivery
