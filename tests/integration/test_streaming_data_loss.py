"""Guards of the bronze job: records deleted before they were read, and a second run on a checkpoint.

Records deleted from Kafka (delete-records, as retention does) while the job is stopped make the
next start fail with the topic, the partitions and the exact lost range, before any batch runs. A
new checkpoint continues after the rows bronze holds, so it neither duplicates them nor hides the
loss; an explicit --starting-offsets earliest accepts it. A second run on a checkpoint another
process holds is refused and leaves the checkpoint as it was.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lakehouse.kafka.client import client_config
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.lock import CheckpointLockedError
from lakehouse.streaming.preflight import DataLossError
from tests.conftest import PROJECT_ROOT
from tests.integration.streaming_support import bronze_options, stream_config, table


def produce(cfg, topic: str, per_partition: int, partitions: int = 2) -> None:
    from confluent_kafka import Producer

    producer = Producer(client_config(cfg, acks="all"))
    for partition in range(partitions):
        for i in range(per_partition):
            producer.produce(topic, value=b'{"n": %d}' % i, partition=partition)
    assert producer.flush(30) == 0


def delete_records(cfg, topic: str, partition: int, before: int) -> None:
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(client_config(cfg))
    for future in admin.delete_records([TopicPartition(topic, partition, before)]).values():
        future.result(timeout=30)


def run_bronze(spark, cfg, **options) -> None:
    start_bronze(spark, cfg, bronze_options("user_events", **options)).wait(until_all_done=True)


def offsets_in_bronze(spark, cfg) -> dict[int, list[int]]:
    rows = (table(spark, cfg, "bronze", "user_events").groupBy("kafka_partition")
            .agg(F.sort_array(F.collect_list("kafka_offset")).alias("offsets")).collect())
    return {r.kafka_partition: r.offsets for r in rows}


def files_under(folder: str) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in Path(folder).rglob("*") if p.is_file()}


def test_records_deleted_while_the_job_was_stopped_are_named_and_never_skipped_silently(spark, tmp_path, new_topic):
    topic = new_topic(partitions=2, prefix="loss")
    cfg = stream_config(tmp_path, {"user_events": topic})
    produce(cfg, topic, per_partition=10)
    run_bronze(spark, cfg)
    produce(cfg, topic, per_partition=10)               # offsets 10..19 in both partitions, not read yet
    delete_records(cfg, topic, partition=0, before=15)  # retention takes 10..14 of partition 0
    checkpoint = cfg.lake.checkpoint_path("kafka_to_bronze", "user_events")

    with pytest.raises(DataLossError) as info:
        run_bronze(spark, cfg)
    message = str(info.value)
    print(f"\n{message}")
    assert f"Kafka topic {topic} no longer holds records checkpoint {checkpoint} has not read yet: " in message
    assert "partition 0 offsets 10..14 (5 records)." in message
    assert "partition 1" not in message

    shutil.move(checkpoint, f"{checkpoint}.lost")       # a new checkpoint must not hide the loss either
    with pytest.raises(DataLossError, match=r"partition 0 offsets 10\.\.14 \(5 records\)"):
        run_bronze(spark, cfg)
    run_bronze(spark, cfg, starting_offsets="earliest")  # the operator accepts the loss

    assert offsets_in_bronze(spark, cfg) == {0: [*range(10), *range(15, 20)], 1: list(range(20))}


def test_a_lost_checkpoint_continues_after_the_rows_bronze_holds(spark, tmp_path, new_topic):
    topic = new_topic(partitions=2, prefix="reset")
    cfg = stream_config(tmp_path, {"user_events": topic})
    produce(cfg, topic, per_partition=5)
    run_bronze(spark, cfg)
    shutil.rmtree(cfg.lake.checkpoint_path("kafka_to_bronze", "user_events"))
    produce(cfg, topic, per_partition=3)
    run_bronze(spark, cfg)
    assert offsets_in_bronze(spark, cfg) == {0: list(range(8)), 1: list(range(8))}


HOLD_LOCK = """
import sys, time
from lakehouse.streaming.lock import CheckpointLock
CheckpointLock(sys.argv[1]).acquire()
print("running", flush=True)
time.sleep(600)
"""


def test_a_second_run_on_a_checkpoint_in_use_fails_and_leaves_it_intact(spark, tmp_path, new_topic):
    topic = new_topic(partitions=2, prefix="lock")
    cfg = stream_config(tmp_path, {"user_events": topic})
    produce(cfg, topic, per_partition=3)
    run_bronze(spark, cfg)
    checkpoint = cfg.lake.checkpoint_path("kafka_to_bronze", "user_events")
    before = files_under(checkpoint)
    produce(cfg, topic, per_partition=3)
    # The first run, in another process (the exactly-once test does the same with a real bronze job).
    first = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, checkpoint], cwd=PROJECT_ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "running"
        with pytest.raises(CheckpointLockedError, match=f"is in use by pid {first.pid} on "):
            run_bronze(spark, cfg)
    finally:
        first.kill()
        first.wait()
    assert files_under(checkpoint) == before
    assert table(spark, cfg, "bronze", "user_events").count() == 6
