"""Kafka offset look-ups for start positions and data-loss checks (earliest, latest, by time)."""
from __future__ import annotations

import time
from dataclasses import dataclass

from lakehouse.config import Config
from lakehouse.kafka.client import client_config

TIMEOUT_S = 30.0
# Named for the EMR role's grants (infra: kafka_consumer_groups); it never joins or commits.
OFFSET_LOOKUP_GROUP = "lakehouse-offset-lookups"
RETRY_PAUSE_S = 0.2


class TopicNotFoundError(RuntimeError):
    """The topic does not exist; topics are created explicitly, never on first use."""


@dataclass(frozen=True)
class PartitionRange:
    """Offsets a partition holds now: [earliest, latest); latest is the next offset to be written."""

    earliest: int
    latest: int


def topic_offsets(cfg: Config, topic: str) -> dict[int, PartitionRange]:
    """The earliest and latest offsets of every partition of `topic`."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(_consumer_settings(cfg))
    try:
        partitions = _partitions(consumer, topic)
        ranges = {}
        for partition in partitions:
            earliest, latest = _watermarks(consumer, TopicPartition(topic, partition))
            ranges[partition] = PartitionRange(earliest, latest)
        return ranges
    finally:
        consumer.close()


def offsets_at(cfg: Config, topic: str, timestamp_ms: int) -> dict[int, int]:
    """Per partition, the first offset whose record timestamp is at or after `timestamp_ms`
    (the partition's latest offset when every record is older)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(_consumer_settings(cfg))
    try:
        partitions = _partitions(consumer, topic)
        found = consumer.offsets_for_times([TopicPartition(topic, p, timestamp_ms) for p in partitions],
                                           timeout=TIMEOUT_S)
        result = {}
        for tp in found:
            if tp.error:
                raise RuntimeError(f"offset look-up for {topic}[{tp.partition}] failed: {tp.error}")
            offset = tp.offset
            if offset < 0:  # no record at or after the time
                offset = _watermarks(consumer, TopicPartition(topic, tp.partition))[1]
            result[tp.partition] = offset
        return result
    finally:
        consumer.close()


def _watermarks(consumer, partition) -> tuple[int, int]:
    """(earliest, latest) of one partition, retrying while its leader is being elected: a topic
    created a moment ago answers NOT_LEADER_FOR_PARTITION until its partitions have leaders."""
    from confluent_kafka import KafkaError, KafkaException

    transient = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART}
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        try:
            return consumer.get_watermark_offsets(partition, timeout=TIMEOUT_S)
        except KafkaException as exc:
            if exc.args[0].code() not in transient or time.monotonic() > deadline:
                raise
            time.sleep(RETRY_PAUSE_S)


def _partitions(consumer, topic: str) -> list[int]:
    metadata = consumer.list_topics(topic, timeout=TIMEOUT_S).topics.get(topic)
    if metadata is None or metadata.error is not None or not metadata.partitions:
        raise TopicNotFoundError(f"Kafka topic {topic} does not exist; create it with `lakehouse-services topics`")
    return sorted(metadata.partitions)


def _consumer_settings(cfg: Config) -> dict[str, str]:
    # No group membership: the consumer only answers offset queries, it never subscribes or commits.
    return client_config(cfg, **{"group.id": OFFSET_LOOKUP_GROUP, "enable.auto.commit": "false"})
