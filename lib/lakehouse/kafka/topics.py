"""Explicit topic creation: the broker never creates topics on first use."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Optional

from lakehouse.config import Config
from lakehouse.kafka.client import client_config

log = logging.getLogger(__name__)


class TopicError(RuntimeError):
    """A topic cannot be created, or exists with a layout other than the configured one."""


def ensure_topics(cfg: Config, names: Optional[Iterable[str]] = None, timeout: float = 30.0) -> dict[str, str]:
    """Creates the configured topics that do not exist yet.

    Returns each topic's state ("created" or "exists"). An existing topic with fewer partitions
    than configured is an error: keys would map to other partitions than the producers expect.
    """
    from confluent_kafka.admin import AdminClient, NewTopic

    names = list(names) if names is not None else list(cfg.kafka.topics)
    unknown = sorted(set(names) - set(cfg.kafka.topics))
    if unknown:
        raise TopicError(f"topics not in kafka.topics: {', '.join(unknown)}")
    admin = AdminClient(client_config(cfg))
    existing = admin.list_topics(timeout=timeout).topics
    result: dict[str, str] = {}
    to_create = []
    for name in names:
        topic = cfg.kafka.topics[name]
        if name in existing:
            partitions = len(existing[name].partitions)
            if partitions < topic.partitions:
                raise TopicError(f"topic {name} has {partitions} partitions, config says {topic.partitions}")
            result[name] = "exists"
            continue
        settings = {"retention.ms": str(topic.retention_ms)} if topic.retention_ms else {}
        to_create.append(NewTopic(name, topic.partitions, topic.replication_factor, config=settings))
    futures = admin.create_topics(to_create, request_timeout=timeout) if to_create else {}
    for name, future in futures.items():
        try:
            future.result()
        except Exception as exc:
            raise TopicError(f"cannot create topic {name}: {exc}") from exc
        result[name] = "created"
        log.info("created topic %s (%d partitions)", name, cfg.kafka.topics[name].partitions)
    return result
