"""librdkafka (confluent-kafka) client settings derived from the config."""
from __future__ import annotations

from lakehouse.config import Config


def client_config(cfg: Config, **extra: str) -> dict[str, str]:
    """Settings shared by admin clients, producers and consumers, plus `extra`."""
    settings = {
        "bootstrap.servers": cfg.kafka.bootstrap_servers,
        "security.protocol": cfg.kafka.security_protocol,
        **cfg.kafka.options,
    }
    settings.update(extra)
    return settings
