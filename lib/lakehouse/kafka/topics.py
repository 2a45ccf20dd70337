"""Explicit topic creation: the broker never creates topics on first use."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Optional

from lakehouse.config import Config
from lakehouse.kafka.client import client_config

log = logging.getLogger(__name__)


class TopicError(RuntimeError):
    """A topic cannot be created, or exists with a layout other than the configured one."""


def ensure_topics(cfg: Config, contracts: Optional[Iterable[str]] = None, timeout: float = 30.0) -> dict[str, str]:
    """Creates the topics of the given contracts (all by default) that do not exist yet.

    `kafka.topics` gives each contract's layout (partitions, replication, retention) and
    `streaming.topics` the name of its topic, so a run mapped to other topics creates those.
    Returns each topic's state ("created" or "exists"). An existing topic with fewer partitions
    than configured is an error: keys would map to other partitions than the producers expect.
    """
    from confluent_kafka.admin import AdminClient, NewTopic

    contracts = list(contracts) if contracts is not None else list(cfg.kafka.topics)
    unknown = sorted(set(contracts) - set(cfg.kafka.topics))
    if unknown:
        raise TopicError(f"not in kafka.topics: {', '.join(unknown)}")
    admin = AdminClient(client_config(cfg))
    existing = admin.list_topics(timeout=timeout).topics
    result: dict[str, str] = {}
    to_create: dict[str, object] = {}
    for contract in contracts:
        layout = cfg.kafka.topics[contract]
        name = cfg.streaming.topics.get(contract, contract)
        if name in existing:
            partitions = len(existing[name].partitions)
            if partitions < layout.partitions:
                raise TopicError(f"topic {name} has {partitions} partitions, config says {layout.partitions}")
            result[name] = "exists"
            continue
        settings = {"retention.ms": str(layout.retention_ms)} if layout.retention_ms else {}
        to_create[name] = NewTopic(name, layout.partitions, layout.replication_factor, config=settings)
    futures = admin.create_topics(list(to_create.values()), request_timeout=timeout) if to_create else {}
    for name, future in futures.items():
        try:
            future.result()
        except Exception as exc:
            raise TopicError(f"cannot create topic {name}: {exc}") from exc
        result[name] = "created"
        log.info("created topic %s (%d partitions)", name, to_create[name].num_partitions)
    _wait_for_leaders(admin, list(futures), timeout)
    return result


def _wait_for_leaders(admin, topics: list[str], timeout: float) -> None:
    """Returns once every partition of `topics` has a leader, so the topics take reads and writes."""
    deadline = time.monotonic() + timeout
    for topic in topics:
        while True:
            metadata = admin.list_topics(topic, timeout=timeout).topics.get(topic)
            leaderless = [p for p, m in (metadata.partitions.items() if metadata else []) if m.leader < 0 or m.error]
            if metadata is not None and metadata.partitions and not leaderless:
                break
            if time.monotonic() > deadline:
                raise TopicError(f"topic {topic} created, but partitions {leaderless} have no leader after {timeout}s")
            time.sleep(0.1)
