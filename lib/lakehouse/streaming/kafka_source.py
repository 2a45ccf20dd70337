"""Options of Spark's Kafka source, shared by the bronze stream and the bronze backfill."""
from __future__ import annotations

from lakehouse.config import Config
from lakehouse.kafka.auth import java_client_properties

# The consumer groups Spark generates (streams and the backfill's batch reads) start with this; the EMR
# role may use only groups under it (infra: kafka_consumer_groups).
CONSUMER_GROUP_PREFIX = "lakehouse-bronze"


def kafka_source_options(cfg: Config, topic: str) -> dict[str, str]:
    """Subscribes to `topic` with headers; `failOnDataLoss` stays on: lost records stop the job.

    The consumer gets its security properties (lakehouse.kafka.auth: IAM on MSK), then
    `streaming.source_options` (throughput), then `kafka.options` (connection settings every client shares).
    """
    options = {
        "kafka.bootstrap.servers": cfg.kafka.bootstrap_servers,
        **{f"kafka.{key}": value for key, value in java_client_properties(cfg).items()},
        "subscribe": topic,
        "groupIdPrefix": CONSUMER_GROUP_PREFIX,
        "includeHeaders": "true",
        "failOnDataLoss": "true",
    }
    options.update({f"kafka.{key}": value for key, value in cfg.streaming.source_options.items()})
    options.update({f"kafka.{key}": value for key, value in cfg.kafka.options.items()})
    return options
