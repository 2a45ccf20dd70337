"""A checkpoint restored from a backup (or rewound by deleting its latest batches) loses nothing.

Batch ids restart from the restored checkpoint's last batch, but the tables already hold commits
of later batch ids under the same query: Delta's transaction ids would skip the replanned batches,
which now cover more records than the batches committed under those ids. Bronze (Delta's streaming
sink) and silver (foreachBatch MERGEs) must both notice and write every record once.
"""
from __future__ import annotations

import datetime as dt
import random
import shutil

import pytest
from pyspark.sql import functions as F

from lakehouse.generators.records import encode, user_event
from lakehouse.kafka.client import client_config
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.silver import start_silver
from tests.integration.streaming_support import bronze_options, silver_options, stream_config, table

AT = dt.datetime(2024, 6, 1, 10, tzinfo=dt.timezone.utc)


def produce(cfg, topic: str, first: int, count: int) -> None:
    """`count` valid user events, each with its own event id (seeded by its number from `first`)."""
    from confluent_kafka import Producer

    producer = Producer(client_config(cfg, acks="all"))
    for n in range(first, first + count):
        event = user_event(random.Random(n), 7, AT, "s1")
        producer.produce(topic, value=encode(event), partition=0)
    assert producer.flush(30) == 0


def run_bronze(spark, cfg) -> None:
    start_bronze(spark, cfg, bronze_options("user_events")).wait(until_all_done=True)


def run_silver(spark, cfg) -> None:
    start_silver(spark, cfg, silver_options("user_events")).wait(until_all_done=True)


def restore(checkpoint: str, backup: str) -> None:
    shutil.rmtree(checkpoint)
    shutil.copytree(backup, checkpoint)


@pytest.mark.timeout(300)
def test_a_restored_bronze_checkpoint_loses_no_record(spark, tmp_path, new_topic):
    topic = new_topic(partitions=1, prefix="restore-bronze")
    cfg = stream_config(tmp_path, {"user_events": topic})
    checkpoint = cfg.lake.checkpoint_path("kafka_to_bronze", "user_events")
    produce(cfg, topic, 0, 20)
    run_bronze(spark, cfg)
    shutil.copytree(checkpoint, tmp_path / "backup")
    produce(cfg, topic, 20, 20)
    run_bronze(spark, cfg)                  # batch 1: offsets 20..39
    produce(cfg, topic, 40, 20)
    restore(checkpoint, str(tmp_path / "backup"))
    run_bronze(spark, cfg)                  # batch 1 again, now offsets 20..59

    offsets = [row[0] for row in table(spark, cfg, "bronze", "user_events")
               .select("kafka_offset").orderBy("kafka_offset").collect()]
    assert offsets == list(range(60))


@pytest.mark.timeout(300)
def test_a_restored_silver_checkpoint_loses_no_record(spark, tmp_path, new_topic):
    topic = new_topic(partitions=1, prefix="restore-silver")
    cfg = stream_config(tmp_path, {"user_events": topic})
    checkpoint = cfg.lake.checkpoint_path("bronze_to_silver", "user_events")
    produce(cfg, topic, 0, 20)
    run_bronze(spark, cfg)
    run_silver(spark, cfg)
    shutil.copytree(checkpoint, tmp_path / "backup")
    produce(cfg, topic, 20, 20)
    run_bronze(spark, cfg)
    run_silver(spark, cfg)                  # batch 1: bronze's second commit
    produce(cfg, topic, 40, 20)
    run_bronze(spark, cfg)
    restore(checkpoint, str(tmp_path / "backup"))
    run_silver(spark, cfg)                  # batch 1 again, now bronze's second and third commits

    silver = table(spark, cfg, "silver", "user_events")
    assert table(spark, cfg, "quarantine", "user_events").count() == 0
    assert silver.count() == 60
    assert silver.agg(F.countDistinct("event_id")).first()[0] == 60
