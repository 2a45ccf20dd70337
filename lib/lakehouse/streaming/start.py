"""Where a bronze query starts: its checkpoint, else after the rows bronze holds, else a flag.

A start position is `earliest`, `latest`, a time (ISO 8601, or epoch milliseconds) or Spark's
offsets JSON (`{"topic": {"0": 42}}`). It is resolved here to one offset per partition, so what a
query starts from is exact and logged, and checked for data loss first.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Optional

from lakehouse.config import Config
from lakehouse.kafka.offsets import PartitionRange, offsets_at, topic_offsets
from lakehouse.streaming.checkpoint import next_kafka_offsets
from lakehouse.streaming.preflight import DataLossError, check_checkpoint_offsets, lost_ranges

log = logging.getLogger(__name__)


def plan_start(spark, cfg: Config, topic: str, table_path: str, checkpoint: str,
               requested: Optional[str]) -> Optional[str]:
    """The `startingOffsets` JSON for a new checkpoint, or None to resume the existing one.

    An existing checkpoint decides (start flags are ignored) after the data-loss check. A new one
    continues after the last row bronze holds for each partition, so a lost checkpoint never
    duplicates bronze; an explicit `requested` start may move that later, never earlier.
    """
    available = topic_offsets(cfg, topic)
    needed = next_kafka_offsets(spark, checkpoint, topic)
    if needed is not None:
        if requested is not None:
            log.warning("%s: checkpoint %s exists; ignoring start position %r", topic, checkpoint, requested)
        check_checkpoint_offsets(topic, checkpoint, needed, available)
        return None
    wanted = resolve_offsets(cfg, topic, requested or cfg.streaming.starting_offsets, available)
    ingested = bronze_next_offsets(spark, table_path, topic)
    for partition, next_offset in ingested.items():
        if partition in wanted:
            wanted[partition] = max(wanted[partition], next_offset) if requested is not None else next_offset
    lost = lost_ranges(wanted, available)
    if lost:
        raise DataLossError(
            f"Kafka topic {topic} no longer holds records after the last ones in {table_path}: "
            + "; ".join(r.describe() for r in lost)
            + ". They were deleted before the job read them. To accept the loss, start with "
            "--starting-offsets earliest."
        )
    log.info("%s: new checkpoint %s starts at %s (bronze holds up to %s)", topic, checkpoint, wanted, ingested)
    return json.dumps({topic: {str(p): offset for p, offset in sorted(wanted.items())}})


def resolve_offsets(cfg: Config, topic: str, spec: str, available: Mapping[int, PartitionRange]) -> dict[int, int]:
    """One offset per partition for `spec` (see the module docstring)."""
    spec = spec.strip()
    if spec == "earliest":
        return {p: r.earliest for p, r in available.items()}
    if spec == "latest":
        return {p: r.latest for p, r in available.items()}
    if spec.startswith("{"):
        return _offsets_from_json(topic, spec, available)
    return offsets_at(cfg, topic, parse_time_ms(spec))


def parse_time_ms(text: str) -> int:
    """Epoch milliseconds from digits or an ISO 8601 time (UTC unless an offset is given)."""
    if text.isdigit():
        return int(text)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"start position {text!r}: expected earliest, latest, an ISO 8601 time, epoch milliseconds "
            'or offsets JSON like {"topic": {"0": 42}}'
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return int(moment.timestamp() * 1000)


def bronze_next_offsets(spark, table_path: str, topic: str) -> dict[int, int]:
    """Per partition, the offset after the last one bronze holds for `topic` ({} if none)."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    if not DeltaTable.isDeltaTable(spark, table_path):
        return {}
    rows = (
        spark.read.format("delta").load(table_path).where(F.col("topic") == topic)
        .groupBy("kafka_partition").agg(F.max("kafka_offset").alias("last")).collect()
    )
    return {int(row["kafka_partition"]): int(row["last"]) + 1 for row in rows}


def _offsets_from_json(topic: str, text: str, available: Mapping[int, PartitionRange]) -> dict[int, int]:
    try:
        given = json.loads(text)[topic]
        offsets = {int(p): int(o) for p, o in given.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValueError(f'offsets JSON {text!r}: expected {{"{topic}": {{"<partition>": <offset>, ...}}}}') from None
    unknown = sorted(set(offsets) - set(available))
    if unknown:
        raise ValueError(f"offsets JSON names partitions {unknown} that topic {topic} does not have")
    beyond = [p for p, o in offsets.items() if o > available[p].latest or o < 0]
    if beyond:
        raise ValueError(f"offsets JSON for {topic}: partition(s) {beyond} outside 0..end of the partition")
    return {p: offsets.get(p, r.earliest) for p, r in available.items()}
