"""B1: one Python process per Kafka partition, appending the bronze rows to Delta with deltalake.

What a team would write instead of the bronze job: a confluent-kafka consumer assigned to one
partition, reading from the start to the end the partition had when it started (like
available-now), building pyarrow columns and appending every `batch` records to the same Delta
table, partitioned by ingest date like ours, with the same columns (the record as raw bytes plus
its Kafka coordinates). The last offset of each append goes into the same commit as a Delta
transaction (kafka-delta-ingest's way to resume exactly once). Processes commit concurrently:
deltalake retries version races itself, and a commit that still fails is retried with back-off.

    python -m bench.baselines.consumer --topic T --partition 0 --table PATH --batch 250000 --report F
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time

BRONZE_COLUMNS = ("topic", "kafka_partition", "kafka_offset", "kafka_timestamp", "kafka_timestamp_type", "key",
                  "value", "headers", "ingested_at", "ingest_date")
COMMIT_ATTEMPTS = 20


def bronze_schema():
    """The bronze table's columns (lakehouse.schemas.lake.BRONZE) in Arrow types."""
    import pyarrow as pa

    utc = pa.timestamp("us", tz="UTC")
    header = pa.struct([("key", pa.string()), ("value", pa.binary())])
    return pa.schema([
        ("topic", pa.string()), ("kafka_partition", pa.int32()), ("kafka_offset", pa.int64()),
        ("kafka_timestamp", utc), ("kafka_timestamp_type", pa.int32()), ("key", pa.binary()),
        ("value", pa.binary()), ("headers", pa.list_(header)), ("ingested_at", utc), ("ingest_date", pa.date32()),
    ])


def create_table(path: str) -> None:
    """Creates the empty bronze table once, before the partition processes start appending."""
    from deltalake import write_deltalake

    write_deltalake(path, bronze_schema().empty_table(), mode="error", partition_by=["ingest_date"])


def to_arrow(topic: str, partition: int, messages: list):
    """One append's rows from confluent-kafka messages."""
    import pyarrow as pa

    now = dt.datetime.now(dt.timezone.utc)
    count = len(messages)
    timestamps = [m.timestamp() for m in messages]
    schema = bronze_schema()
    return pa.table({
        "topic": pa.array([topic] * count, pa.string()),
        "kafka_partition": pa.array([partition] * count, pa.int32()),
        "kafka_offset": pa.array([m.offset() for m in messages], pa.int64()),
        "kafka_timestamp": pa.array([t[1] * 1000 for t in timestamps], pa.int64()).cast(schema.field(3).type),
        "kafka_timestamp_type": pa.array([t[0] for t in timestamps], pa.int32()),
        "key": pa.array([m.key() for m in messages], pa.binary()),
        "value": pa.array([m.value() for m in messages], pa.binary()),
        "headers": pa.nulls(count, schema.field("headers").type),
        "ingested_at": pa.array([now] * count, schema.field("ingested_at").type),
        "ingest_date": pa.array([now.date()] * count, pa.date32()),
    }, schema=schema)


def append(path: str, rows, app_id: str, last_offset: int) -> int:
    """Appends `rows` with the partition's position in the same commit; returns the retries it took."""
    from deltalake import CommitProperties, Transaction, write_deltalake
    from deltalake.exceptions import CommitFailedError

    properties = CommitProperties(app_transactions=[Transaction(app_id, last_offset)], max_commit_retries=50)
    for attempt in range(COMMIT_ATTEMPTS):
        try:
            write_deltalake(path, rows, mode="append", partition_by=["ingest_date"], commit_properties=properties)
            return attempt
        except CommitFailedError:
            time.sleep(0.05 * 2**min(attempt, 5))
    raise RuntimeError(f"{app_id}: append still failing after {COMMIT_ATTEMPTS} attempts")


def consume_partition(cfg, topic: str, partition: int, path: str, batch: int) -> dict:
    """Reads the partition to its end offset at start, appending every `batch` records."""
    from confluent_kafka import Consumer, TopicPartition

    from lakehouse.kafka.client import client_config

    consumer = Consumer(client_config(cfg, **{
        "group.id": f"bench-b1-{topic}", "enable.auto.commit": "false", "enable.partition.eof": "false",
        "fetch.max.bytes": str(64 << 20), "max.partition.fetch.bytes": str(16 << 20),
        "queued.max.messages.kbytes": str(256 << 10),
    }))
    low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
    consumer.assign([TopicPartition(topic, partition, low)])
    report = {"partition": partition, "records": 0, "commits": 0, "retries": 0}
    pending: list = []
    next_offset = low
    try:
        while next_offset < high:
            for message in consumer.consume(num_messages=min(10_000, batch - len(pending)), timeout=1.0):
                if message.error():
                    raise RuntimeError(f"{topic}[{partition}]: {message.error()}")
                pending.append(message)
                next_offset = message.offset() + 1
            if len(pending) >= batch or (pending and next_offset >= high):
                report["retries"] += append(path, to_arrow(topic, partition, pending), f"bench-b1-{topic}-{partition}",
                                            next_offset - 1)
                report["records"] += len(pending)
                report["commits"] += 1
                pending = []
    finally:
        consumer.close()
    return report


def main(argv=None) -> int:
    from lakehouse.runtime.entrypoint import parse_config

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--topic", required=True)
        parser.add_argument("--partition", type=int, required=True)
        parser.add_argument("--table", required=True, help="bronze table path (created beforehand)")
        parser.add_argument("--batch", type=int, required=True, help="records per Delta append")
        parser.add_argument("--report", required=True)

    cfg, args = parse_config("B1 partition consumer", argv, add_arguments)
    report = consume_partition(cfg, args.topic, args.partition, args.table, args.batch)
    with open(args.report, "w") as out:
        json.dump(report, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
