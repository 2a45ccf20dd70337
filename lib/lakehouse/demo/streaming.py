"""The demo's streaming steps: produce traffic, bronze and silver (available-now), per-table counts."""
from __future__ import annotations

import json

from lakehouse.config import Config
from lakehouse.generators.publish import publish
from lakehouse.generators.traffic import TrafficSpec, generate
from lakehouse.kafka.offsets import topic_offsets
from lakehouse.schemas import CONTRACTS
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.options import BronzeOptions, SilverOptions, Trigger, select_contracts
from lakehouse.streaming.silver import start_silver

DEMO_TRAFFIC = TrafficSpec(users=200, user_events=3000, transactions=1000, system_metrics=500)
AVAILABLE_NOW = Trigger("available-now", "")


def produce_traffic(cfg: Config, state: dict) -> str:
    # Where the topics end now: a new bronze checkpoint starts there, so the counts are this run's.
    ends = {cfg.streaming.topics[c]: {str(p): r.latest for p, r in topic_offsets(cfg, cfg.streaming.topics[c]).items()}
            for c in CONTRACTS}
    traffic = generate(DEMO_TRAFFIC)
    report = publish(cfg, traffic)
    truth = traffic.truth
    state.update(demo_start_offsets=json.dumps(ends), produced=report.acknowledged)
    return (f"{report.acknowledged} records acknowledged (acks=all): {truth.duplicates} duplicates, "
            f"{sum(truth.malformed.values())} malformed, late and out-of-order events, status updates")


def kafka_to_bronze(cfg: Config, state: dict) -> str:
    from lakehouse.spark import build_spark

    options = BronzeOptions(select_contracts(None), AVAILABLE_NOW, cfg.streaming.max_offsets_per_trigger, None,
                            state.get("demo_start_offsets"), None, None)
    start_bronze(build_spark(cfg, "demo"), cfg, options).wait(until_all_done=True)
    return ", ".join(f"bronze.{c.name}" for c in options.contracts) + " caught up"


def bronze_to_silver(cfg: Config, state: dict) -> str:
    from lakehouse.spark import build_spark

    options = SilverOptions(select_contracts(None), AVAILABLE_NOW, cfg.streaming.silver_max_files_per_trigger)
    start_silver(build_spark(cfg, "demo"), cfg, options).wait(until_all_done=True)
    return ", ".join(f"silver.{c.silver_table}" for c in options.contracts) + " caught up"


def table_counts(cfg: Config, state: dict) -> str:
    from lakehouse.spark import build_spark

    spark = build_spark(cfg, "demo")

    def rows(layer: str, name: str) -> int:
        return spark.read.format("delta").load(cfg.lake.table_path(layer, name)).count()

    lines = []
    for contract in CONTRACTS.values():
        bronze, silver = rows("bronze", contract.name), rows("silver", contract.silver_table)
        quarantined = rows("quarantine", contract.name)
        lines.append(f"bronze.{contract.name} {bronze} rows -> silver.{contract.silver_table} {silver} rows, "
                     f"{quarantined} quarantined")
        state[f"bronze.{contract.name}"], state[f"silver.{contract.silver_table}"] = bronze, silver
        state[f"quarantine.{contract.name}"] = quarantined
    flagged = spark.read.format("delta").load(cfg.lake.table_path("silver", "transactions")).where("is_flagged").count()
    state["flagged transactions"] = flagged
    lines.append(f"{flagged} transactions flagged ({rows('silver', 'fraud_review')} in silver.fraud_review)")
    return "\n      ".join(lines)
