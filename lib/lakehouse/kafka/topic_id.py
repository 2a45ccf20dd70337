"""A topic's id (KIP-516): it tells a topic from one deleted and created again under the same name."""
from __future__ import annotations

from lakehouse.config import Config
from lakehouse.kafka.client import client_config
from lakehouse.kafka.offsets import TIMEOUT_S, TopicNotFoundError


def topic_id(cfg: Config, topic: str) -> str:
    """The topic's id as Kafka's tools print it (URL-safe base64, e.g. `9Em2OLEwSWi-sSMJUFFOuQ`)."""
    from confluent_kafka import KafkaError, KafkaException, TopicCollection
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(client_config(cfg))
    try:
        description = admin.describe_topics(TopicCollection([topic]), request_timeout=TIMEOUT_S)[topic].result()
    except KafkaException as exc:
        if exc.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            raise TopicNotFoundError(
                f"Kafka topic {topic} does not exist; create it with `lakehouse-services topics`") from None
        raise
    # librdkafka prints the id in standard base64; Kafka's Uuid.toString uses the URL-safe alphabet.
    return str(description.topic_id).replace("+", "-").replace("/", "_")
