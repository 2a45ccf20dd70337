"""Run settings of the streaming jobs: config values, overridden by the job's flags."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Optional

from lakehouse.config import Config
from lakehouse.schemas import CONTRACTS, Contract

TRIGGERS = ("available-now", "processing-time")


@dataclass(frozen=True)
class Trigger:
    """available-now: read what is there, then stop (scheduled runs); processing-time: run for ever."""

    mode: str
    interval: str

    def spark_options(self) -> dict:
        return {"availableNow": True} if self.mode == "available-now" else {"processingTime": self.interval}

    @property
    def runs_to_completion(self) -> bool:
        return self.mode == "available-now"


@dataclass(frozen=True)
class BronzeOptions:
    contracts: tuple[Contract, ...]
    trigger: Trigger
    max_offsets_per_trigger: int
    min_partitions: Optional[int]
    starting_offsets: Optional[str]  # for a new checkpoint: earliest, latest, a time, or offsets JSON
    backfill_from: Optional[str]     # a backfill copies [from, until) into bronze instead of streaming
    backfill_until: Optional[str]
    accept_recreated_topic: bool = False  # read a re-created topic (new topic id) from its start


@dataclass(frozen=True)
class SilverOptions:
    contracts: tuple[Contract, ...]
    trigger: Trigger
    max_files_per_trigger: int


def bronze_options(cfg: Config, args: argparse.Namespace) -> BronzeOptions:
    backfill = (_flag(args, "backfill_from"), _flag(args, "backfill_until"))
    if (backfill[0] is None) != (backfill[1] is None):
        raise ValueError("--backfill-from and --backfill-until go together")
    return BronzeOptions(
        contracts=select_contracts(_flag(args, "topics")),
        trigger=_trigger(cfg, args),
        max_offsets_per_trigger=_flag(args, "max_offsets_per_trigger") or cfg.streaming.max_offsets_per_trigger,
        min_partitions=_flag(args, "min_partitions") or cfg.streaming.min_partitions,
        starting_offsets=_flag(args, "starting_offsets"),
        backfill_from=backfill[0],
        backfill_until=backfill[1],
        accept_recreated_topic=bool(_flag(args, "accept_recreated_topic")),
    )


def silver_options(cfg: Config, args: argparse.Namespace) -> SilverOptions:
    topics, tables = _flag(args, "topics"), _flag(args, "tables")
    if topics and tables:
        raise ValueError("give --topics or --tables, not both")
    if tables:
        by_table = {c.silver_table: name for name, c in CONTRACTS.items()}
        unknown = sorted(set(_split(tables)) - set(by_table))
        if unknown:
            raise ValueError(f"unknown silver table(s) {', '.join(unknown)}; known: {', '.join(sorted(by_table))}")
        topics = ",".join(by_table[t] for t in _split(tables))
    return SilverOptions(
        contracts=select_contracts(topics),
        trigger=_trigger(cfg, args),
        max_files_per_trigger=_flag(args, "max_files_per_trigger") or cfg.streaming.silver_max_files_per_trigger,
    )


def pipeline_options(cfg: Config, args: argparse.Namespace) -> tuple[BronzeOptions, SilverOptions]:
    """kafka_to_silver's settings: bronze's and silver's flags, one set of contracts and one trigger."""
    bronze, silver = bronze_options(cfg, args), silver_options(cfg, args)
    interval = _flag(args, "processing_time")
    if interval and bronze.trigger.mode != "processing-time":
        raise ValueError(f"--processing-time {interval!r} applies to --trigger processing-time; "
                         f"this run's trigger is {bronze.trigger.mode}")
    return bronze, silver


def select_contracts(names: Optional[str]) -> tuple[Contract, ...]:
    """The contracts named in a comma-separated list (all of them when None)."""
    if not names:
        return tuple(CONTRACTS.values())
    unknown = sorted(set(_split(names)) - set(CONTRACTS))
    if unknown:
        raise ValueError(f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(CONTRACTS)}")
    return tuple(CONTRACTS[name] for name in dict.fromkeys(_split(names)))


def _trigger(cfg: Config, args: argparse.Namespace) -> Trigger:
    return Trigger(
        mode=_flag(args, "trigger") or cfg.streaming.trigger,
        interval=_flag(args, "processing_time") or cfg.streaming.processing_time,
    )


def _flag(args: argparse.Namespace, name: str):
    return getattr(args, name, None)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
