"""Options of Spark's Kafka source, shared by the bronze stream and the bronze backfill."""
from __future__ import annotations

from lakehouse.config import Config


def kafka_source_options(cfg: Config, topic: str) -> dict[str, str]:
    """Subscribes to `topic` with headers; `failOnDataLoss` stays on: lost records stop the job.

    The consumer gets `streaming.source_options` (throughput), then `kafka.options` (security and
    connection settings every client shares).
    """
    options = {
        "kafka.bootstrap.servers": cfg.kafka.bootstrap_servers,
        "kafka.security.protocol": cfg.kafka.security_protocol,
        "subscribe": topic,
        "includeHeaders": "true",
        "failOnDataLoss": "true",
    }
    options.update({f"kafka.{key}": value for key, value in cfg.streaming.source_options.items()})
    options.update({f"kafka.{key}": value for key, value in cfg.kafka.options.items()})
    return options
