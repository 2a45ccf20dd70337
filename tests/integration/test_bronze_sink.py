"""Bronze's batches committed as Delta's streaming sink commits them, and skipped as it skips them."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from pyspark.sql import functions as F

from lakehouse.kafka.topic_id import topic_id
from lakehouse.schemas import CONTRACTS
from lakehouse.sinks.append_once import append_once
from lakehouse.sinks.delta import ensure_table
from lakehouse.streaming.bronze_sink import append_batch
from lakehouse.streaming.checkpoint import query_id
from lakehouse.streaming.kafka_source import kafka_source_options
from lakehouse.streaming.log_checkpoints import LogCheckpointer
from lakehouse.streaming.tables import bronze_checkpoint, bronze_table
from lakehouse.transforms.bronze import with_bronze_columns
from tests.integration.streaming_support import stream_config, table
from tests.integration.test_streaming_bronze import produce, run_bronze

CONTRACT = CONTRACTS["user_events"]


def records(first: int, count: int) -> list:
    return [(0, str(i).encode(), json.dumps({"n": i}).encode(), [], None) for i in range(first, first + count)]


def offsets(spark, cfg) -> list[int]:
    return sorted(row.kafka_offset for row in table(spark, cfg, "bronze", "user_events").collect())


def newest_commit(path: str) -> dict:
    newest = max(Path(path, "_delta_log").glob("*.json"))
    actions = [json.loads(line) for line in newest.read_text().splitlines()]
    return {key: action[key] for action in actions for key in action if key in ("commitInfo", "txn")}


def forget_spark_commit(checkpoint: str, batch_id: int) -> None:
    """As a kill after the batch's Delta commit and before Spark marked it done: the batch runs again."""
    Path(checkpoint, "commits", str(batch_id)).unlink()
    Path(checkpoint, "commits", f".{batch_id}.crc").unlink(missing_ok=True)  # Hadoop's checksum of it


def test_a_batch_is_committed_as_deltas_sink_commits_it_and_skipped_when_run_again(spark, tmp_path, new_topic):
    topic = new_topic(prefix="bronze_sink")
    cfg = stream_config(tmp_path, {"user_events": topic})
    produce(cfg, topic, records(0, 3))
    run_bronze(spark, cfg)
    checkpoint, path = bronze_checkpoint(cfg, CONTRACT), bronze_table(cfg, CONTRACT).path

    commit = newest_commit(path)
    owner = query_id(spark, checkpoint)
    assert (commit["txn"]["appId"], commit["txn"]["version"]) == (owner, 0)
    assert commit["commitInfo"]["operation"] == "STREAMING UPDATE"
    assert commit["commitInfo"]["operationParameters"] == {"outputMode": "Append", "queryId": owner, "epochId": "0"}
    assert commit["commitInfo"]["isBlindAppend"] is True

    forget_spark_commit(checkpoint, 0)
    run_bronze(spark, cfg)
    assert newest_commit(path) == commit
    produce(cfg, topic, records(3, 2))
    run_bronze(spark, cfg)
    assert offsets(spark, cfg) == [0, 1, 2, 3, 4]


def test_a_table_and_checkpoint_written_by_deltas_own_sink_go_on(spark, tmp_path, new_topic):
    topic = new_topic(prefix="bronze_sink")
    cfg = stream_config(tmp_path, {"user_events": topic})
    produce(cfg, topic, records(0, 3))
    spec, checkpoint = bronze_table(cfg, CONTRACT), bronze_checkpoint(cfg, CONTRACT)
    ensure_table(spark, spec)
    (spark.readStream.format("kafka").options(**kafka_source_options(cfg, topic))
     .option("startingOffsets", "earliest").load()
     .transform(with_bronze_columns(F.current_timestamp(), topic_id(cfg, topic)))
     .writeStream.format("delta").outputMode("append").option("checkpointLocation", checkpoint)
     .partitionBy(*spec.partition_by).trigger(availableNow=True).start(spec.path).awaitTermination())
    txn = newest_commit(spec.path)["txn"]
    assert (txn["appId"], txn["version"]) == (query_id(spark, checkpoint), 0)
    assert offsets(spark, cfg) == [0, 1, 2]

    forget_spark_commit(checkpoint, 0)  # Delta's sink committed batch 0; this job runs it again
    produce(cfg, topic, records(3, 2))
    run_bronze(spark, cfg)

    assert offsets(spark, cfg) == [0, 1, 2, 3, 4]


def log_checkpoints(path: str) -> list[str]:
    return sorted(p.name for p in Path(path, "_delta_log").glob("*.checkpoint*.parquet"))


def test_bronze_leaves_the_log_checkpoint_to_a_thread_that_writes_it_once_due(spark, tmp_path, new_topic):
    topic = new_topic(prefix="bronze_sink")
    cfg = stream_config(tmp_path, {"user_events": topic})
    produce(cfg, topic, records(0, 3))
    run_bronze(spark, cfg)  # version 1: batch 0
    path, checkpoint = bronze_table(cfg, CONTRACT).path, bronze_checkpoint(cfg, CONTRACT)
    owner, batch = query_id(spark, checkpoint), spark.read.format("delta").load(path).localCheckpoint()
    for batch_id in range(1, 10):  # versions 2-10: Delta writes a checkpoint with version 10
        append_once(spark, path, batch, owner, batch_id, stream_batch=True, checkpoint=False)
    assert log_checkpoints(path) == []
    assert Path(path, "_delta_log", f"{10:020d}.crc").exists(), "the commit's other hooks still run"

    writer = LogCheckpointer(spark)
    append_batch(batch, 10, path, checkpoint, log_checkpoints=writer)  # version 11: one is due since 10
    writer.close()
    assert log_checkpoints(path) == [f"{11:020d}.checkpoint.parquet"]
    writer = LogCheckpointer(spark)
    append_batch(batch, 11, path, checkpoint, log_checkpoints=writer)  # version 12: the next is due at 20
    writer.close()
    assert log_checkpoints(path) == [f"{11:020d}.checkpoint.parquet"]
    assert spark.read.format("delta").load(path).count() == 3 * 12  # batches 0-11


def test_on_s3_the_thread_writes_the_checkpoint_the_commits_left_out(spark, cfg):
    from lakehouse.services.s3 import s3_client

    bucket, client = f"lake-{uuid.uuid4().hex[:12]}", s3_client(cfg)
    client.create_bucket(Bucket=bucket)
    path, rows = f"s3a://{bucket}/bronze/user_events", spark.range(2).localCheckpoint()
    rows.write.format("delta").save(path)
    for batch_id in range(1, 11):  # versions 1-10
        append_once(spark, path, rows, "query", batch_id, stream_batch=True, checkpoint=False)

    def checkpoints() -> list[str]:
        listed = client.list_objects_v2(Bucket=bucket, Prefix="bronze/user_events/_delta_log/").get("Contents", [])
        return [item["Key"].rsplit("/", 1)[1] for item in listed if ".checkpoint" in item["Key"]]

    assert checkpoints() == []
    writer = LogCheckpointer(spark)
    writer.committed(path, 10)
    writer.close()
    assert checkpoints() == [f"{10:020d}.checkpoint.parquet"]
    assert spark.read.format("delta").load(path).count() == 2 * 11
