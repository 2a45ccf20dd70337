"""Kafka topics -> bronze Delta tables, exactly once (lakehouse.streaming.bronze).

Streams every selected topic into bronze.<topic> with the trigger chosen, or, with
--backfill-from/--backfill-until, copies a bounded range into bronze without duplicating rows.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional

from lakehouse.runtime.entrypoint import run_job
from lakehouse.streaming.bronze import run_bronze
from lakehouse.streaming.options import TRIGGERS

POSITION = "earliest, latest, an ISO 8601 time, epoch milliseconds, or offsets JSON {\"<topic>\": {\"0\": 42}}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--topics", help="comma-separated contracts (user_events,transaction_events,system_metrics); "
                                         "default all")
    parser.add_argument("--trigger", choices=TRIGGERS, help="default streaming.trigger")
    parser.add_argument("--processing-time", help="micro-batch interval, e.g. '30 seconds' (streaming.processing_time)")
    parser.add_argument("--max-offsets-per-trigger", type=int, help="records per micro-batch across partitions")
    parser.add_argument("--min-partitions", type=int, help="Spark tasks per micro-batch (default one per partition)")
    parser.add_argument("--starting-offsets", help=f"where a NEW checkpoint starts: {POSITION}")
    parser.add_argument("--backfill-from", help=f"backfill instead of streaming, from: {POSITION}")
    parser.add_argument("--backfill-until", help=f"backfill up to (exclusive): {POSITION}")
    parser.add_argument("--accept-recreated-topic", action="store_true",
                        help="the topic was deleted and re-created (new topic id): move the old checkpoint "
                             "aside and read the new topic from --starting-offsets, default earliest")


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_job("kafka_to_bronze", __doc__, argv, run_bronze, add_arguments)


if __name__ == "__main__":
    sys.exit(main())
