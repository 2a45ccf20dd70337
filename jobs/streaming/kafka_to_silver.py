"""Kafka topics -> bronze -> silver in one driver (lakehouse.streaming.pipeline).

Runs kafka_to_bronze's and bronze_to_silver's queries for the selected contracts in one Spark
session, on the same checkpoints: always-on locally or on a small cluster. With the available-now
trigger, bronze's queries run to their end, then silver's. Backfills and a re-created topic are
kafka_to_bronze's.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional

from lakehouse.runtime.entrypoint import run_job
from lakehouse.streaming.options import TRIGGERS
from lakehouse.streaming.pipeline import run_pipeline


def at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--topics", help="comma-separated contracts (user_events,transaction_events,system_metrics); "
                                         "default all")
    parser.add_argument("--trigger", choices=TRIGGERS, help="default streaming.trigger")
    parser.add_argument("--processing-time", help="micro-batch interval, e.g. '30 seconds' (streaming.processing_time)")
    parser.add_argument("--max-offsets-per-trigger", type=at_least_one, help="bronze: records per micro-batch")
    parser.add_argument("--min-partitions", type=at_least_one, help="bronze: Spark tasks per micro-batch")
    parser.add_argument("--starting-offsets", help="where a NEW bronze checkpoint starts (as for kafka_to_bronze)")
    parser.add_argument("--max-files-per-trigger", type=at_least_one, help="silver: bronze files per micro-batch")


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_job("kafka_to_silver", __doc__, argv, run_pipeline, add_arguments)


if __name__ == "__main__":
    sys.exit(main())
