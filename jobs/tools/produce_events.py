"""Produces synthetic traffic to the user_events, transaction_events and system_metrics topics.

Duplicates, late and out-of-order events, status updates and malformed records come in the shares
given; every record is acknowledged by the broker (acks=all, idempotent) or the command fails.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional

from lakehouse.generators.publish import publish
from lakehouse.generators.traffic import TrafficSpec, generate
from lakehouse.kafka.producer import ProduceError
from lakehouse.kafka.topics import ensure_topics
from lakehouse.runtime.entrypoint import configure_logging, log_effective_config, parse_config

DEFAULTS = TrafficSpec()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for name in ("users", "user_events", "transactions", "system_metrics", "seed"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(DEFAULTS, name))
    for name in ("duplicate_share", "late_share", "out_of_order_share", "update_share", "malformed_share",
                 "large_share", "burst_share"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(DEFAULTS, name))
    parser.add_argument("--rate", type=float, help="records per second (default: as fast as the broker takes them)")
    parser.add_argument("--create-topics", action="store_true", help="create the configured topics if missing")


def main(argv: Optional[Sequence[str]] = None) -> int:
    configure_logging()
    cfg, args = parse_config(__doc__, argv, add_arguments)
    log_effective_config("produce_events", cfg)
    if args.create_topics:
        ensure_topics(cfg)
    spec = TrafficSpec(**{name: getattr(args, name) for name in TrafficSpec.__dataclass_fields__
                          if name != "start"})
    traffic = generate(spec)
    try:
        report = publish(cfg, traffic, rate_per_second=args.rate)
    except ProduceError as exc:
        print(f"produce_events: {exc}", file=sys.stderr)
        return 1
    truth = traffic.truth
    print(f"{report.acknowledged} records acknowledged: {len(truth.event_ids)} distinct events, "
          f"{len(truth.transactions)} transactions, {len(truth.metric_keys)} metric samples, "
          f"{truth.duplicates} duplicates, {sum(truth.malformed.values())} malformed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
