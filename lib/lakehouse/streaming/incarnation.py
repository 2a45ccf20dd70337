"""Which incarnation of a Kafka topic a bronze checkpoint and bronze's rows were read from.

A topic deleted and created again under the same name restarts its offsets at 0 under a new topic
id (KIP-516). Offsets of one incarnation mean nothing in another, so the id is part of every
position: bronze and quarantine rows carry it (`topic_id`), and a bronze checkpoint records it in
`lakehouse_topic_id`. Rows written before ids were recorded hold null: they count as the
incarnation of the first id bronze recorded (the topic the job was reading when it was upgraded).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from lakehouse.streaming.checkpoint import read_text, write_text
from lakehouse.streaming.preflight import DataLossError

CHECKPOINT_FILE = "lakehouse_topic_id"
ACCEPT_FLAG = "--accept-recreated-topic"


class TopicRecreatedError(DataLossError):
    """The topic is not the incarnation the checkpoint or bronze read: it was deleted and re-created."""


@dataclass(frozen=True)
class BronzeIncarnations:
    """What bronze holds of one topic, per topic id (None: rows from before ids were recorded)."""

    next_offsets: dict  # topic id -> {partition: offset after the last one bronze holds}
    newest: Optional[str]  # the id of the most recently ingested rows that carry one

    def holds_only(self, topic_id: str) -> bool:
        """No rows of another incarnation: the rows without an id are of this one too."""
        return {i for i in self.next_offsets if i is not None} <= {topic_id}

    def offsets_of(self, topic_id: str) -> dict[int, int]:
        """Per partition, the offset after the last row bronze holds of this incarnation."""
        found = dict(self.next_offsets.get(topic_id, {}))
        if self.holds_only(topic_id):
            for partition, offset in self.next_offsets.get(None, {}).items():
                found[partition] = max(found.get(partition, 0), offset)
        return found


def bronze_incarnations(spark, table_path: str, topic: str) -> BronzeIncarnations:
    """Reads bronze's positions of `topic` per incarnation (one aggregate over the Kafka columns)."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    if not DeltaTable.isDeltaTable(spark, table_path):
        return BronzeIncarnations({}, None)
    rows = (
        spark.read.format("delta").load(table_path).where(F.col("topic") == topic)
        .groupBy("topic_id", "kafka_partition")
        .agg(F.max("kafka_offset").alias("last"), F.max("ingested_at").alias("ingested"))
        .collect()
    )
    offsets: dict = {}
    for row in rows:
        offsets.setdefault(row["topic_id"], {})[int(row["kafka_partition"])] = int(row["last"]) + 1
    with_id = [row for row in rows if row["topic_id"] is not None]
    newest = max(with_id, key=lambda row: row["ingested"])["topic_id"] if with_id else None
    return BronzeIncarnations(offsets, newest)


def checkpoint_topic_id(spark, checkpoint: str) -> Optional[str]:
    """The topic id the checkpoint's offsets belong to, or None if it was not recorded."""
    text = read_text(spark, f"{checkpoint}/{CHECKPOINT_FILE}")
    return json.loads(text)["topic_id"] if text else None


def record_checkpoint_topic_id(spark, checkpoint: str, topic: str, topic_id: str) -> None:
    write_text(spark, f"{checkpoint}/{CHECKPOINT_FILE}", json.dumps({"topic": topic, "topic_id": topic_id}))


def recreated_error(topic: str, read_id: str, current_id: str, reader: str) -> TopicRecreatedError:
    return TopicRecreatedError(
        f"Kafka topic {topic} was deleted and re-created: {reader} read topic id {read_id}, the topic now has "
        f"id {current_id} and its offsets started again at 0. Resuming at the old offsets would skip the new "
        f"records below them, so the job refuses to start. Run once with {ACCEPT_FLAG} to read the new "
        "topic from its earliest offset into a new checkpoint (the old one is moved aside); bronze keeps "
        "the old rows, told apart by topic_id."
    )
