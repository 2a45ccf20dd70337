"""Bronze Delta tables -> silver.user_events, silver.transactions, silver.system_metrics
(lakehouse.streaming.silver): parsed against the contracts, deduplicated, MERGEd exactly once;
refused records go to quarantine.<topic>, flagged transactions also to silver.fraud_review.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional

from lakehouse.runtime.entrypoint import run_job
from lakehouse.streaming.options import TRIGGERS
from lakehouse.streaming.silver import run_silver


def add_arguments(parser: argparse.ArgumentParser) -> None:
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--topics", help="comma-separated contracts (user_events,transaction_events,system_metrics)")
    chosen.add_argument("--tables", help="comma-separated silver tables (user_events,transactions,system_metrics)")
    parser.add_argument("--trigger", choices=TRIGGERS, help="default streaming.trigger")
    parser.add_argument("--processing-time", help="micro-batch interval, e.g. '30 seconds' (streaming.processing_time)")
    parser.add_argument("--max-files-per-trigger", type=int, help="bronze files per micro-batch")


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_job("bronze_to_silver", __doc__, argv, run_silver, add_arguments)


if __name__ == "__main__":
    sys.exit(main())
