"""Where a bronze query starts: its checkpoint, else after the rows bronze holds, else a flag.

A start position is `earliest`, `latest`, a time (ISO 8601, or epoch milliseconds) or Spark's
offsets JSON (`{"topic": {"0": 42}}`). It is resolved here to one offset per partition, so what a
query starts from is exact and logged, and checked for data loss first.

Positions belong to one incarnation of the topic (lakehouse.streaming.incarnation): a checkpoint or
bronze rows of an older one are refused unless the operator accepts the re-created topic. A
checkpoint behind bronze's commits (restored or rewound, lakehouse.streaming.rewind) is moved aside.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Optional

from lakehouse.config import Config
from lakehouse.kafka.offsets import PartitionRange, offsets_at, topic_offsets
from lakehouse.ops.phases import phase
from lakehouse.streaming.checkpoint import move_aside, next_kafka_offsets, query_id
from lakehouse.streaming.incarnation import (
    BronzeIncarnations,
    bronze_incarnations,
    checkpoint_topic_id,
    record_checkpoint_topic_id,
    recreated_error,
)
from lakehouse.streaming.preflight import DataLossError, check_checkpoint_offsets, lost_ranges
from lakehouse.streaming.rewind import describe_rewind, tables_ahead

log = logging.getLogger(__name__)


def plan_start(spark, cfg: Config, topic: str, topic_id: str, table_path: str, checkpoint: str,
               requested: Optional[str], accept_recreated_topic: bool = False) -> Optional[str]:
    """The `startingOffsets` JSON for a new checkpoint, or None to resume the existing one.

    An existing checkpoint decides (start flags are ignored) after the identity, rewind and
    data-loss checks. A new one continues after the last row bronze holds of this incarnation for
    each partition, so a lost checkpoint never duplicates bronze; an explicit `requested` start may
    move that later, never earlier. With `accept_recreated_topic`, a checkpoint of an older
    incarnation is moved aside and the new one is read from `requested` or its earliest offsets.
    """
    with phase("topic_offsets"):
        available = topic_offsets(cfg, topic)
    held: Optional[BronzeIncarnations] = None  # read from bronze only when needed
    with phase("checkpoint_offsets"):
        needed = next_kafka_offsets(spark, checkpoint, topic)
    if needed is not None:
        read_id = checkpoint_topic_id(spark, checkpoint)
        if read_id is None:  # recorded before ids were: bronze's newest rows tell
            held = bronze_incarnations(spark, table_path, topic)
            read_id = held.newest or topic_id
        owner = query_id(spark, checkpoint)
        with phase("rewind_check"):
            ahead = tables_ahead(spark, checkpoint, owner, [table_path]) if owner else {}
        if read_id != topic_id:
            if not accept_recreated_topic:
                raise recreated_error(topic, read_id, topic_id, f"checkpoint {checkpoint}")
            move_aside(spark, checkpoint, f"topic-{read_id}")
        elif ahead:
            log.warning("%s; continuing after the rows bronze holds", describe_rewind(checkpoint, ahead))
            move_aside(spark, checkpoint, "rewound")
        else:
            if requested is not None:
                log.warning("%s: checkpoint %s exists; ignoring start position %r", topic, checkpoint, requested)
            check_checkpoint_offsets(topic, checkpoint, needed, available)
            record_checkpoint_topic_id(spark, checkpoint, topic, topic_id)
            return None
    with phase("bronze_positions"):
        held = held or bronze_incarnations(spark, table_path, topic)
    wanted = _new_checkpoint_offsets(cfg, topic, topic_id, table_path, held, requested, accept_recreated_topic,
                                     available)
    lost = lost_ranges(wanted, available)
    if lost:
        raise DataLossError(
            f"Kafka topic {topic} no longer holds records after the last ones in {table_path}: "
            + "; ".join(r.describe() for r in lost)
            + ". They were deleted before the job read them. To accept the loss, start with "
            "--starting-offsets earliest."
        )
    record_checkpoint_topic_id(spark, checkpoint, topic, topic_id)
    return json.dumps({topic: {str(p): offset for p, offset in sorted(wanted.items())}})


def _new_checkpoint_offsets(cfg: Config, topic: str, topic_id: str, table_path: str, held: BronzeIncarnations,
                            requested: Optional[str], accept_recreated_topic: bool,
                            available: Mapping[int, PartitionRange]) -> dict[int, int]:
    if held.newest not in (None, topic_id):
        if not accept_recreated_topic:
            raise recreated_error(topic, held.newest, topic_id, f"bronze table {table_path}")
        wanted = resolve_offsets(cfg, topic, requested or "earliest", available)
        log.info("%s: topic id %s (re-created), new checkpoint starts at %s", topic, topic_id, wanted)
        return wanted
    wanted = resolve_offsets(cfg, topic, requested or cfg.streaming.starting_offsets, available)
    ingested = held.offsets_of(topic_id)
    for partition, next_offset in ingested.items():
        if partition in wanted:
            wanted[partition] = max(wanted[partition], next_offset) if requested is not None else next_offset
    log.info("%s: new checkpoint starts at %s (bronze holds up to %s of topic id %s)",
             topic, wanted, ingested, topic_id)
    return wanted


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
