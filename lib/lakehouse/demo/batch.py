"""The demo's batch steps: seed Postgres, extract it twice around live writes, land and ingest
Salesforce files. Each returns what it did, with counts and positions."""
from __future__ import annotations

import time

from lakehouse.config import Config
from lakehouse.extract.run import ExtractRequest, extract_table
from lakehouse.landed.ingest import SOURCES, ingest, landed_path
from lakehouse.sourcegen.salesforce_files import land_account_syncs
from lakehouse.sourcegen.seed import seed
from lakehouse.sourcegen.writer import ConcurrentWriter
from lakehouse.sources.postgres import connect

WRITE_SECONDS = 3.0


def seed_postgres(cfg: Config, state: dict) -> str:
    with connect(cfg.postgres, "lakehouse-demo", read_only=False) as conn:
        counts = seed(conn, "public", users=1000, orders=5000)
    return ", ".join(f"public.{table}: {count} rows" for table, count in counts.items())


def extract_postgres(cfg: Config, state: dict) -> str:
    """Extracts every configured table, writes like the application for a while, extracts again."""
    from lakehouse.spark import build_spark

    spark = build_spark(cfg, "demo")
    lines = [_describe(extract_table(spark, cfg, name, ExtractRequest())) for name in cfg.extract.tables]
    with ConcurrentWriter(cfg.postgres, "public") as writer:
        time.sleep(WRITE_SECONDS)
    lines.append(f"live writer: {writer.stats.committed} transactions ({writer.stats.inserts} inserts, "
                 f"{writer.stats.updates} updates), {writer.stats.rolled_back} rolled back")
    time.sleep(cfg.extract.safety_delay_s)  # let the last commits fall below the safe bound
    for name in cfg.extract.tables:
        summary = extract_table(spark, cfg, name, ExtractRequest())
        state[f"{name}_position"] = summary.new_position.describe() if summary.new_position else None
        lines.append(_describe(summary))
    return "\n      ".join(lines)


def land_and_ingest_files(cfg: Config, state: dict) -> str:
    """Lands three Airbyte syncs of Salesforce Account, then ingests them (available-now)."""
    from lakehouse.spark import build_spark

    source = SOURCES["salesforce_account"]
    paths = land_account_syncs(landed_path(cfg, source), syncs=3, seed=None)
    spark = build_spark(cfg, "demo")
    totals = ingest(spark, cfg, source)
    bronze = spark.read.format("delta").load(cfg.lake.table_path("bronze", source.bronze_name)).count()
    silver = spark.read.format("delta").load(cfg.lake.table_path("silver", source.silver_name)).count()
    state["accounts"] = silver
    return (f"landed {len(paths)} files; ingested {totals.records} records in {totals.batches} batch(es): "
            f"bronze.{source.bronze_name} {bronze} rows, silver.{source.silver_name} {silver} accounts")


def _describe(summary) -> str:
    old = summary.old_position.describe() if summary.old_position else "start"
    new = summary.new_position.describe() if summary.new_position else "start"
    return (f"{summary.table}: read {summary.rows_read}, merged {summary.rows_merged}, "
            f"position {old} -> {new} ({summary.elapsed_s:.1f}s)")
