"""Bronze backfill: copies a bounded range of a topic into bronze, each record once.

For a range the live checkpoint never read: it started at `latest` or at a time, or bronze was
rebuilt. It is a batch job, not a second stream: it owns no checkpoint, so it cannot disturb the
live query's. It reads [from, until) in chunks of at most maxOffsetsPerTrigger records and inserts
each chunk with a MERGE on (topic, topic id, partition, offset), which skips rows bronze already
holds, so a re-run, whole or after a crash, adds nothing twice; rows of an earlier incarnation of a
re-created topic never hide the current one's. It stops at the live checkpoint's next offsets (when
the checkpoint reads this incarnation), so it never races the live query for a record. Progress is
logged chunk by chunk.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from pyspark.sql import functions as F

from lakehouse.config import Config
from lakehouse.kafka.offsets import topic_offsets
from lakehouse.kafka.topic_id import topic_id
from lakehouse.schemas import Contract
from lakehouse.sinks.delta import ensure_table, merge_into
from lakehouse.streaming.checkpoint import next_kafka_offsets
from lakehouse.streaming.incarnation import bronze_incarnations, checkpoint_topic_id
from lakehouse.streaming.kafka_source import kafka_source_options
from lakehouse.streaming.options import BronzeOptions
from lakehouse.streaming.preflight import DataLossError, lost_ranges
from lakehouse.streaming.start import resolve_offsets
from lakehouse.streaming.tables import BY_KAFKA_OFFSET, BY_KAFKA_POSITION, bronze_checkpoint, bronze_table
from lakehouse.transforms.bronze import with_bronze_columns

log = logging.getLogger(__name__)

Ranges = Mapping[int, tuple[int, int]]  # partition -> [first, end)


def run_backfill(spark, cfg: Config, options: BronzeOptions) -> dict[str, int]:
    """Backfills every selected topic; returns the rows inserted per contract."""
    return {
        contract.name: backfill_topic(spark, cfg, contract, options.backfill_from, options.backfill_until,
                                      options.max_offsets_per_trigger)
        for contract in options.contracts
    }


def backfill_topic(spark, cfg: Config, contract: Contract, since: str, until: str, chunk_records: int) -> int:
    """Inserts the records of [since, until) that bronze lacks; returns how many it inserted."""
    topic = cfg.streaming.topics[contract.name]
    table = bronze_table(cfg, contract)
    ensure_table(spark, table)
    incarnation = topic_id(cfg, topic)
    available = topic_offsets(cfg, topic)
    first = resolve_offsets(cfg, topic, since, available)
    end = resolve_offsets(cfg, topic, until, available)
    checkpoint = bronze_checkpoint(cfg, contract)
    live = {}
    if checkpoint_topic_id(spark, checkpoint) in (None, incarnation):
        live = next_kafka_offsets(spark, checkpoint, topic) or {}
    # Rows without a topic id are of this incarnation when bronze holds no other: match them by offset.
    by_position = BY_KAFKA_OFFSET if bronze_incarnations(spark, table.path, topic).holds_only(incarnation) \
        else BY_KAFKA_POSITION
    ranges = {p: (first[p], min(end[p], live.get(p, end[p]))) for p in sorted(available)}
    ranges = {p: (lo, hi) for p, (lo, hi) in ranges.items() if lo < hi}
    lost = lost_ranges({p: lo for p, (lo, _) in ranges.items()}, available)
    if lost:
        raise DataLossError(f"backfill of {topic}: Kafka no longer holds " + "; ".join(r.describe() for r in lost))
    chunks = plan_chunks(ranges, chunk_records)
    total = sum(hi - lo for lo, hi in ranges.values())
    log.info("backfill %s (id %s) -> %s: %d records in %d chunk(s), ranges %s (live checkpoint at %s)",
             topic, incarnation, table.path, total, len(chunks), ranges, live or "none")
    inserted = done = 0
    for number, chunk in enumerate(chunks, 1):
        options = kafka_source_options(cfg, topic)
        del options["subscribe"]
        rows = (
            spark.read.format("kafka").options(**options)
            .option("assign", json.dumps({topic: sorted(chunk)}))
            .option("startingOffsets", json.dumps({topic: {str(p): lo for p, (lo, _) in chunk.items()}}))
            .option("endingOffsets", json.dumps({topic: {str(p): hi for p, (_, hi) in chunk.items()}}))
            .load()
            .transform(with_bronze_columns(F.current_timestamp(), incarnation))
        )
        outcome = merge_into(rows, table, by_position)
        inserted += outcome.inserted
        done += sum(hi - lo for lo, hi in chunk.values())
        log.info("backfill %s chunk %d/%d: %d rows inserted, %d of %d records done",
                 topic, number, len(chunks), outcome.inserted, done, total)
    return inserted


def plan_chunks(ranges: Ranges, max_records: int) -> list[dict[int, tuple[int, int]]]:
    """Splits per-partition [first, end) ranges into chunks of at most `max_records` records."""
    cursor = {p: lo for p, (lo, _) in ranges.items()}
    chunks = []
    while any(cursor[p] < ranges[p][1] for p in cursor):
        budget, chunk = max_records, {}
        for partition in sorted(cursor):
            take = min(ranges[partition][1] - cursor[partition], budget)
            if take > 0:
                chunk[partition] = (cursor[partition], cursor[partition] + take)
                cursor[partition] += take
                budget -= take
        chunks.append(chunk)
    return chunks
