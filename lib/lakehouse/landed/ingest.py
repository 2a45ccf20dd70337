"""The files_to_bronze job: landed files -> bronze (every line, once) -> silver (latest per key).

Spark's file stream source lists `<lake.root>/raw/<prefix>/`, and its checkpoint records which
files each micro-batch took, so every file is taken by exactly one committed batch (the
available-now trigger takes all pending files, then stops). The last batch may be replayed
after a crash; both writes are idempotent, so a replay changes nothing: bronze is an
insert-only MERGE on the record id, silver a MERGE where the newest LastModifiedDate wins.
Neither depends on batch ids, so even a lost checkpoint re-reads files without duplicating.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable, Optional

from lakehouse.config.model import Config
from lakehouse.landed.airbyte import ACCOUNTS_MERGE, parse_airbyte_envelope, to_silver_accounts
from lakehouse.sinks.delta import MergeSpec, TableSpec, merge_into
from lakehouse.spark.hadoop_fs import filesystem

log = logging.getLogger(__name__)

TRIGGERS = ("available-now", "processing-time")


@dataclass(frozen=True)
class LandedSource:
    """One stream an external loader lands as files, and where its rows go."""

    name: str
    raw_prefix: str  # under <lake.root>/raw/
    bronze_name: str
    silver_name: str
    silver_merge: MergeSpec  # which version of a key silver keeps (to_silver keeps the same one)
    to_silver: Callable  # bronze rows -> silver rows, one per key


SOURCES = {
    "salesforce_account": LandedSource(
        name="salesforce_account",
        raw_prefix="salesforce/account",
        bronze_name="salesforce_account",
        silver_name="accounts",
        silver_merge=ACCOUNTS_MERGE,
        to_silver=to_silver_accounts,
    ),
}


def landed_path(cfg: Config, source: LandedSource) -> str:
    return f"{cfg.lake.root.rstrip('/')}/raw/{source.raw_prefix}"


def bronze_schema():
    """Bronze's columns: the envelope fields, the line as landed, its file, and when it came in."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

    return StructType([
        StructField("record_id", StringType()),
        StructField("raw_id", StringType()),
        StructField("extracted_at", TimestampType()),
        StructField("sync_id", LongType()),
        StructField("generation_id", LongType()),
        StructField("value", StringType()),
        StructField("source_file", StringType()),
        StructField("ingested_at", TimestampType()),
    ])


@dataclass
class IngestTotals:
    """What the batches of one run wrote (accumulated by the handler, logged at the end)."""

    batches: int = 0
    records: int = 0
    bronze_inserted: int = 0
    silver_inserted: int = 0
    silver_updated: int = 0

    def line(self, source: str) -> str:
        return (f"files_to_bronze {source}: {self.records} records in {self.batches} batches; bronze "
                f"+{self.bronze_inserted}, silver +{self.silver_inserted} inserted {self.silver_updated} updated")


def ingest_batch(batch_df, batch_id: int, *, bronze: TableSpec, silver: TableSpec, source: LandedSource,
                 totals: Optional[IngestTotals] = None) -> None:
    """foreachBatch handler: one micro-batch of landed lines into bronze, then silver."""
    from pyspark.sql import functions as F

    from lakehouse.transforms.dedup import dedupe_latest

    rows = (
        batch_df.transform(parse_airbyte_envelope)
        .transform(dedupe_latest(["record_id"], ["source_file"]))
        .withColumn("ingested_at", F.current_timestamp())
        .persist()
    )
    try:
        records = rows.count()
        into_bronze = merge_into(rows, bronze, MergeSpec(keys=["record_id"], insert_only=True))
        into_silver = merge_into(rows.transform(source.to_silver), silver,
                                 source.silver_merge)
    finally:
        rows.unpersist()
    log.info("files_to_bronze %s batch %d: %d records; bronze +%d, silver +%d inserted %d updated", source.name,
             batch_id, records, into_bronze.inserted, into_silver.inserted, into_silver.updated)
    if totals is not None:
        totals.batches += 1
        totals.records += records
        totals.bronze_inserted += into_bronze.inserted
        totals.silver_inserted += into_silver.inserted
        totals.silver_updated += into_silver.updated


def ingest(spark, cfg: Config, source: LandedSource, trigger: str = "available-now") -> IngestTotals:
    """Runs the stream for one source until the files landed so far are in (available-now), or
    until stopped (processing-time); returns what its batches wrote."""
    from pyspark.sql import functions as F

    totals = IngestTotals()
    raw = landed_path(cfg, source)
    if not _exists(spark, raw):
        log.info("files_to_bronze %s: nothing landed yet under %s", source.name, raw)
        return totals
    # The silver schema is what the transform makes of bronze rows (the contract's select).
    silver_schema = source.to_silver(spark.createDataFrame([], bronze_schema())).schema
    handler = functools.partial(
        ingest_batch, source=source, totals=totals,
        bronze=TableSpec(cfg.lake.table_path("bronze", source.bronze_name), bronze_schema()),
        silver=TableSpec(cfg.lake.table_path("silver", source.silver_name), silver_schema),
    )
    lines = (
        spark.readStream.format("text")
        .option("maxFilesPerTrigger", cfg.landed_files.max_files_per_trigger)
        .option("pathGlobFilter", "*.jsonl*")
        .load(raw)
        .select("value", F.col("_metadata.file_path").alias("source_file"))
    )
    writer = lines.writeStream.foreachBatch(handler).option(
        "checkpointLocation", cfg.lake.checkpoint_path("files_to_bronze", source.name))
    if trigger == "available-now":
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=cfg.landed_files.processing_time)
    query = writer.queryName(f"files_to_bronze_{source.name}").start()
    try:
        query.awaitTermination()
    finally:
        query.stop()
    log.info("%s", totals.line(source.name))
    return totals


def run(spark, cfg: Config, args) -> dict[str, IngestTotals]:
    """The job's `run`: `args.sources` (comma-separated or all) and `args.trigger`."""
    return {name: ingest(spark, cfg, SOURCES[name], args.trigger) for name in select_sources(args.sources)}


def select_sources(sources: Optional[str]) -> Sequence[str]:
    if sources is None or sources.strip() == "all":
        return list(SOURCES)
    names = [name.strip() for name in sources.split(",") if name.strip()]
    unknown = [name for name in names if name not in SOURCES]
    if unknown or not names:
        raise ValueError(f"unknown source(s) {unknown or sources!r}; known: {', '.join(SOURCES)}, or all")
    return names


def _exists(spark, path: str) -> bool:
    fs, hadoop_path = filesystem(spark, path)
    return fs.exists(hadoop_path)
