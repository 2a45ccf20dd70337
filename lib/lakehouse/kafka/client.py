"""librdkafka (confluent-kafka) client settings derived from the config."""
from __future__ import annotations

from lakehouse.config import Config
from lakehouse.kafka.auth import librdkafka_properties


def client_config(cfg: Config, **extra: str) -> dict:
    """Settings shared by admin clients, producers and consumers, plus `extra`."""
    settings = {
        "bootstrap.servers": cfg.kafka.bootstrap_servers,
        **librdkafka_properties(cfg),
        **cfg.kafka.options,
    }
    settings.update(extra)
    return settings
