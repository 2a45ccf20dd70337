"""Starts, stops and reports the local Kafka broker, PostgreSQL and S3 endpoint.

    lakehouse-services up [--only kafka,postgres,s3]
    lakehouse-services status        (exit status 3 when one is down)
    lakehouse-services topics        (create the configured topics)
    lakehouse-services down
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Optional

from lakehouse.kafka.topics import TopicError, ensure_topics
from lakehouse.runtime.entrypoint import configure_logging, parse_config
from lakehouse.services import stack
from lakehouse.services.process import ServiceError


def add_arguments(parser) -> None:
    parser.add_argument("action", choices=["up", "down", "status", "topics"],
                        help="up: start what is not running; topics: create the configured topics")
    parser.add_argument("--only", default="", help="comma-separated subset of: kafka, postgres, s3")


def main(argv: Optional[Sequence[str]] = None) -> int:
    configure_logging()
    cfg, args = parse_config(__doc__.splitlines()[0], argv, add_arguments)
    names = [n for n in args.only.split(",") if n] or None
    try:
        if args.action == "up":
            stack.up(cfg, names)
        elif args.action == "down":
            stack.down(cfg, names)
            return 0
        elif args.action == "topics":
            for topic, state in ensure_topics(cfg).items():
                print(f"{topic}: {state}")
            return 0
        states = stack.status(cfg, names)
    except (ServiceError, TopicError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, running in states.items():
        print(f"{'up  ' if running else 'down'}  {name}")
    return 0 if all(states.values()) else 3


if __name__ == "__main__":
    sys.exit(main())
