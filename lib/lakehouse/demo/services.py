"""The demo's first steps: the local services and the Kafka topics."""
from __future__ import annotations

from lakehouse.config import Config
from lakehouse.kafka.topics import ensure_topics
from lakehouse.services import stack


def start_services(cfg: Config, state: dict) -> str:
    started = stack.up(cfg)
    return f"started {', '.join(started)}" if started else "all services already running"


def create_topics(cfg: Config, state: dict) -> str:
    return ", ".join(f"{topic} {outcome}" for topic, outcome in ensure_topics(cfg).items())
