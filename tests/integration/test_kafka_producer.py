"""The producer counts only what the broker acknowledged; the produce command sends generated traffic."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from lakehouse.kafka.offsets import topic_offsets
from lakehouse.kafka.producer import EventProducer, ProduceError, producer_settings
from tests.conftest import PROJECT_ROOT, unique_name


def test_settings_are_acks_all_idempotent_and_compressed(cfg):
    settings = producer_settings(cfg)
    assert (settings["acks"], settings["enable.idempotence"], settings["compression.type"]) == ("all", "true", "zstd")


def test_records_are_acknowledged_and_one_key_stays_on_one_partition(cfg, new_topic):
    topic = new_topic(partitions=4, prefix="producer")
    with EventProducer(cfg) as producer:
        for i in range(40):
            producer.send(topic, str(i % 5).encode(), b"{}", tag=i)
    report = producer.report
    assert (report.sent, report.acknowledged, report.failed) == (40, 40, 0)
    for key in range(5):
        partitions = {report.positions[i][0] for i in range(key, 40, 5)}
        offsets = [report.positions[i][1] for i in range(key, 40, 5)]
        assert len(partitions) == 1
        assert offsets == sorted(offsets)  # in order within the partition


def test_failures_are_counted_and_never_reported_as_success(cfg, kafka_service):
    producer = EventProducer(cfg, **{"delivery.timeout.ms": "1500", "linger.ms": "0"})
    for _ in range(3):
        producer.send(unique_name("no_such_topic"), b"1", b"{}")  # auto-create is off: never acknowledged
    with pytest.raises(ProduceError, match="3 of 3 records failed or were not acknowledged"):
        producer.flush(10)
    assert (producer.report.acknowledged, producer.report.failed) == (0, 3)


def test_the_rate_limit_spaces_records_out(cfg, new_topic):
    topic = new_topic(partitions=1, prefix="rate")
    started = time.monotonic()
    with EventProducer(cfg, rate_per_second=50) as producer:
        for _ in range(26):
            producer.send(topic, None, b"{}")
    assert time.monotonic() - started >= 0.5  # 25 intervals of 20 ms
    assert producer.report.acknowledged == 26


def test_the_produce_command_sends_generated_traffic_and_says_what(tmp_path, new_topic):
    topics = {c: new_topic(partitions=2, prefix=c) for c in ("user_events", "transaction_events", "system_metrics")}
    command = [sys.executable, "-m", "lakehouse_jobs.tools.produce_events", "--env", "local",
               *(f"--set=streaming.topics.{c}={t}" for c, t in topics.items()),
               "--user-events", "60", "--transactions", "20", "--system-metrics", "10", "--seed", "4"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE__")}
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    acknowledged = int(result.stdout.split()[0])
    from tests.conftest import local_config

    cfg = local_config()
    in_kafka = sum(r.latest for t in topics.values() for r in topic_offsets(cfg, t).values())
    assert acknowledged == in_kafka >= 90
