"""Bronze: records kept exactly as read, append-only, and a backfill that never duplicates."""
from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F

from lakehouse.kafka.client import client_config
from lakehouse.schemas import CONTRACTS
from lakehouse.streaming.backfill import backfill_topic
from lakehouse.streaming.bronze import start_bronze
from tests.integration.streaming_support import bronze_options, stream_config, table


def produce(cfg, topic: str, records) -> None:
    from confluent_kafka import Producer

    producer = Producer(client_config(cfg, acks="all"))
    for partition, key, value, headers, timestamp_ms in records:
        stamp = {"timestamp": timestamp_ms} if timestamp_ms else {}
        producer.produce(topic, key=key, value=value, partition=partition, headers=headers, **stamp)
    assert producer.flush(30) == 0


def run_bronze(spark, cfg, **options) -> None:
    start_bronze(spark, cfg, bronze_options("user_events", **options)).wait(until_all_done=True)


def test_bronze_keeps_records_as_read_and_refuses_deletes_and_updates(spark, tmp_path, new_topic):
    topic = new_topic(partitions=2, prefix="bronze")
    cfg = stream_config(tmp_path, {"user_events": topic})
    # A recent CreateTime: the broker's time-based retention would delete records stamped days ago.
    created = dt.datetime.now(dt.timezone.utc).replace(microsecond=123000) - dt.timedelta(minutes=1)
    at = int(created.timestamp() * 1000)
    produce(cfg, topic, [
        (0, b"7", b'{"a": 1}', [("trace", b"\x00\x01")], at),
        (1, None, None, None, at + 1),                 # a tombstone with no key: kept too
        (1, b"8", b"\xff not utf-8", [], at + 2),
    ])
    started = dt.datetime.now() - dt.timedelta(seconds=1)  # local time, as Spark returns timestamps
    run_bronze(spark, cfg)

    bronze = table(spark, cfg, "bronze", "user_events")
    rows = sorted(bronze.collect(), key=lambda r: (r.kafka_partition, r.kafka_offset))
    assert [(r.topic, r.kafka_partition, r.kafka_offset, r.key, r.value) for r in rows] == [
        (topic, 0, 0, b"7", b'{"a": 1}'), (topic, 1, 0, None, None), (topic, 1, 1, b"8", b"\xff not utf-8"),
    ]
    assert rows[0].headers[0].asDict() == {"key": "trace", "value": b"\x00\x01"}
    assert rows[0].kafka_timestamp.astimezone(dt.timezone.utc) == created  # collected as local time
    assert all(r.ingested_at >= started and r.ingest_date == r.ingested_at.date() for r in rows)

    path = cfg.lake.table_path("bronze", "user_events")
    for statement in (f"DELETE FROM delta.`{path}` WHERE kafka_offset = 0",
                      f"UPDATE delta.`{path}` SET value = NULL WHERE kafka_offset = 0"):
        with pytest.raises(Exception, match="configured to only allow appends"):
            spark.sql(statement)
    assert bronze.count() == 3


def test_a_backfill_fills_what_the_live_query_skipped_once_and_only_once(spark, tmp_path, new_topic):
    topic = new_topic(partitions=2, prefix="backfill")
    cfg = stream_config(tmp_path, {"user_events": topic})
    history = [(i % 2, b"k", b"old %d" % i, None, None) for i in range(12)]
    produce(cfg, topic, history)
    run_bronze(spark, cfg, starting_offsets="latest")        # the live query starts at the end
    produce(cfg, topic, [(i % 2, b"k", b"new %d" % i, None, None) for i in range(4)])
    run_bronze(spark, cfg)
    assert table(spark, cfg, "bronze", "user_events").count() == 4

    contract = CONTRACTS["user_events"]
    inserted = backfill_topic(spark, cfg, contract, "earliest", "latest", chunk_records=5)
    again = backfill_topic(spark, cfg, contract, "earliest", "latest", chunk_records=5)

    assert (inserted, again) == (12, 0)
    counts = (table(spark, cfg, "bronze", "user_events").groupBy("kafka_partition")
              .agg(F.count("*").alias("rows"), F.countDistinct("kafka_offset").alias("offsets")).collect())
    assert sorted((r.kafka_partition, r.rows, r.offsets) for r in counts) == [(0, 8, 8), (1, 8, 8)]
