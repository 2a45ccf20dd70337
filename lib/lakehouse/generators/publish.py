"""Sends generated traffic to the topics the config maps each contract to."""
from __future__ import annotations

import logging
import time
from typing import Optional

from lakehouse.config import Config
from lakehouse.generators.traffic import Traffic
from lakehouse.kafka.producer import DeliveryReport, EventProducer

log = logging.getLogger(__name__)

PROGRESS_EVERY = 100_000


def publish(cfg: Config, traffic: Traffic, rate_per_second: Optional[float] = None,
            track_positions: bool = False) -> DeliveryReport:
    """Produces every record in order and waits for all acknowledgements (ProduceError otherwise).

    With `track_positions`, report.positions maps each record's index in `traffic.records` to the
    (partition, offset) the broker gave it.
    """
    started = time.monotonic()
    with EventProducer(cfg, rate_per_second) as producer:
        for index, record in enumerate(traffic.records):
            topic = cfg.streaming.topics[record.contract]
            producer.send(topic, record.key, record.value, tag=index if track_positions else None)
            if (index + 1) % PROGRESS_EVERY == 0:
                log.info("%d records sent, %d acknowledged", index + 1, producer.report.acknowledged)
    report = producer.report
    log.info("%d records acknowledged in %.1fs", report.acknowledged, time.monotonic() - started)
    return report
