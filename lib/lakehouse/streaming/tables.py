"""Where the streaming jobs' tables and checkpoints live, and how each table is laid out.

A silver table's schema, partition and merge rule are its contract's (lakehouse.schemas)."""
from __future__ import annotations

from lakehouse.config import Config
from lakehouse.schemas import Contract
from lakehouse.schemas.lake import BRONZE, FRAUD_REVIEW, FX_RATES, QUARANTINE
from lakehouse.sinks.delta import MergeSpec, TableSpec

BRONZE_JOB = "kafka_to_bronze"
SILVER_JOB = "bronze_to_silver"

# Delta refuses DELETE, UPDATE and MERGE clauses that would rewrite rows of an append-only table.
# Statistics only for the Kafka position and times (what bronze is searched by): min/max of the
# key, value and headers columns are never used and cost as much as writing them.
BRONZE_PROPERTIES = {
    "delta.appendOnly": "true",
    "delta.dataSkippingStatsColumns": "topic,kafka_partition,kafka_offset,kafka_timestamp,ingested_at",
}

# How a row's identity meets the rows already in a table (lakehouse.sinks.delta.merge_into); a
# silver table's merge rule is its contract's. A Kafka position is (topic, topic id, partition,
# offset): a re-created topic's offsets start at 0 again under a new id. Keys compare null-safe, so
# rows written before ids were recorded (null) meet their replays; for a table holding no other
# incarnation than the one being written, BY_KAFKA_OFFSET matches those rows by position alone.
BY_KAFKA_POSITION = MergeSpec(keys=("topic", "topic_id", "kafka_partition", "kafka_offset"), insert_only=True)
BY_KAFKA_OFFSET = MergeSpec(keys=("topic", "kafka_partition", "kafka_offset"), insert_only=True)
QUARANTINE_MERGE = MergeSpec(keys=BY_KAFKA_POSITION.keys, insert_only=True, prune_column="ingest_date",
                             bounded_by=("kafka_offset",))
FX_RATES_MERGE = MergeSpec(keys=("currency", "rate_date"), insert_only=True)


def bronze_table(cfg: Config, contract: Contract) -> TableSpec:
    return TableSpec(cfg.lake.table_path("bronze", contract.name), BRONZE, ("ingest_date",), BRONZE_PROPERTIES)


def silver_table(cfg: Config, contract: Contract) -> TableSpec:
    return TableSpec(
        cfg.lake.table_path("silver", contract.silver_table),
        contract.silver_schema,
        (contract.silver_partition,),
    )


def quarantine_table(cfg: Config, contract: Contract) -> TableSpec:
    return TableSpec(cfg.lake.table_path("quarantine", contract.name), QUARANTINE, ("ingest_date",))


def review_table(cfg: Config) -> TableSpec:
    return TableSpec(cfg.lake.table_path("silver", "fraud_review"), FRAUD_REVIEW)


def fx_rates_table(cfg: Config) -> TableSpec:
    return TableSpec(cfg.lake.table_path("reference", "fx_rates"), FX_RATES)


def bronze_checkpoint(cfg: Config, contract: Contract) -> str:
    return cfg.lake.checkpoint_path(BRONZE_JOB, contract.name)


def silver_checkpoint(cfg: Config, contract: Contract) -> str:
    return cfg.lake.checkpoint_path(SILVER_JOB, contract.name)
