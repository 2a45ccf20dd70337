"""A Kafka topic deleted and created again: a new incarnation (new topic id, offsets from 0) is never
read as the old one.

The sequence an operator meets: 100 records read into bronze (and refused into quarantine: they fit
no contract), the topic re-created, 150 new records. The next bronze run, with the old checkpoint or
without it, is refused with an error naming --accept-recreated-topic; with the flag, the new
incarnation is read from offset 0 and old and new rows stay apart by topic id, in bronze and in
quarantine alike: 250 rows in each, every (topic id, partition, offset) once.

A bronze table from before topic ids were recorded gets the column, its rows null, and they keep
counting as the topic's current incarnation: no row read twice by the stream or by a backfill.
"""
from __future__ import annotations

import dataclasses
import shutil
import time

import pytest
from pyspark.sql import functions as F

from lakehouse.kafka.client import client_config
from lakehouse.schemas import CONTRACTS
from lakehouse.streaming.backfill import backfill_topic
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.kafka_source import kafka_source_options
from lakehouse.streaming.silver import start_silver
from lakehouse.transforms.bronze import with_bronze_columns
from tests.integration.streaming_support import bronze_options, silver_options, stream_config, table


def produce(cfg, topic: str, count: int) -> None:
    from confluent_kafka import Producer

    producer = Producer(client_config(cfg, acks="all"))
    for i in range(count):
        producer.produce(topic, value=b'{"n": %d}' % i, partition=0)
    assert producer.flush(30) == 0


def recreate(cfg, topic: str) -> None:
    """Deletes the topic and creates it again under the same name (deletion completes asynchronously)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(client_config(cfg))
    admin.delete_topics([topic])[topic].result(timeout=30)
    deadline = time.monotonic() + 60
    while True:
        try:
            admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
            break
        except Exception:  # TOPIC_ALREADY_EXISTS while the deletion is still under way
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    while not admin.list_topics(topic, timeout=30).topics[topic].partitions.get(0) or \
            admin.list_topics(topic, timeout=30).topics[topic].partitions[0].leader < 0:
        time.sleep(0.2)


def run_bronze(spark, cfg, **flags) -> None:
    options = dataclasses.replace(bronze_options("user_events"), **flags)
    start_bronze(spark, cfg, options).wait(until_all_done=True)


def run_silver(spark, cfg) -> None:
    start_silver(spark, cfg, silver_options("user_events")).wait(until_all_done=True)


def positions(df) -> tuple[int, int, int]:
    """(rows, distinct (topic id, partition, offset), distinct topic ids)."""
    return (df.count(), df.select("topic_id", "kafka_partition", "kafka_offset").distinct().count(),
            df.select("topic_id").distinct().count())


@pytest.mark.timeout(600)
@pytest.mark.parametrize("checkpoint", ["kept", "moved aside"])
def test_a_recreated_topic_is_refused_then_read_from_offset_0_beside_the_old_rows(
        spark, tmp_path, new_topic, checkpoint):
    topic = new_topic(partitions=1, prefix="reborn")
    cfg = stream_config(tmp_path, {"user_events": topic})
    produce(cfg, topic, 100)
    run_bronze(spark, cfg)
    run_silver(spark, cfg)
    recreate(cfg, topic)
    produce(cfg, topic, 150)
    if checkpoint == "moved aside":
        path = cfg.lake.checkpoint_path("kafka_to_bronze", "user_events")
        shutil.move(path, f"{path}.old")

    with pytest.raises(Exception, match="--accept-recreated-topic") as refused:
        run_bronze(spark, cfg)
    print(f"\n{refused.value}")
    assert table(spark, cfg, "bronze", "user_events").count() == 100
    run_bronze(spark, cfg, accept_recreated_topic=True)
    run_silver(spark, cfg)

    bronze = table(spark, cfg, "bronze", "user_events")
    assert positions(bronze) == (250, 250, 2)
    new_offsets = (bronze.groupBy("topic_id").agg(F.min("kafka_offset"), F.max("kafka_offset"), F.count("*"))
                   .orderBy(F.count("*")).collect())
    assert [tuple(row)[1:] for row in new_offsets] == [(0, 99, 100), (0, 149, 150)]
    assert positions(table(spark, cfg, "quarantine", "user_events")) == (250, 250, 2)


@pytest.mark.timeout(600)
def test_bronze_rows_from_before_topic_ids_count_as_the_current_topic(spark, tmp_path, new_topic):
    topic = new_topic(partitions=1, prefix="upgrade")
    cfg = stream_config(tmp_path, {"user_events": topic})
    produce(cfg, topic, 10)
    # bronze as the job wrote it before topic ids, with no checkpoint left
    (spark.read.format("kafka").options(**kafka_source_options(cfg, topic)).load()
     .transform(with_bronze_columns(F.current_timestamp(), "unused")).drop("topic_id")
     .write.format("delta").partitionBy("ingest_date").save(cfg.lake.table_path("bronze", "user_events")))
    produce(cfg, topic, 5)
    run_bronze(spark, cfg)

    assert backfill_topic(spark, cfg, CONTRACTS["user_events"], "earliest", "latest", 100) == 0
    rows = table(spark, cfg, "bronze", "user_events").orderBy("kafka_offset").collect()
    assert [row.kafka_offset for row in rows] == list(range(15))
    assert [row.topic_id is None for row in rows] == [True] * 10 + [False] * 5
