"""Creates and fills the operational source tables (users, orders) in Postgres; optionally keeps writing.

    lakehouse-seed-postgres [--schema public] [--users 1000] [--orders 5000] [--write-for 60]
"""
from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Optional

from lakehouse.runtime.entrypoint import configure_logging, parse_config
from lakehouse.sourcegen.seed import seed
from lakehouse.sourcegen.writer import ConcurrentWriter
from lakehouse.sources.postgres import connect


def add_arguments(parser) -> None:
    parser.add_argument("--schema", default="public", help="schema of the tables (default public)")
    parser.add_argument("--users", type=int, default=1000, help="users to seed, ids 1..N (default 1000)")
    parser.add_argument("--orders", type=int, default=5000, help="orders to seed (default 5000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed: same seed, same rows")
    parser.add_argument("--write-for", type=float, default=0, metavar="SECONDS",
                        help="then insert and update rows like the application for this long (default 0)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    configure_logging()
    cfg, args = parse_config(__doc__.splitlines()[0], argv, add_arguments)
    with connect(cfg.postgres, "lakehouse-seed-postgres", read_only=False) as conn:
        counts = seed(conn, args.schema, args.users, args.orders, args.seed)
    print(f"seeded {args.schema}: " + ", ".join(f"{table} {count} rows" for table, count in counts.items()))
    if args.write_for > 0:
        with ConcurrentWriter(cfg.postgres, args.schema) as writer:
            time.sleep(args.write_for)
        stats = writer.stats
        print(f"wrote for {args.write_for:g}s: {stats.committed} transactions committed, "
              f"{stats.rolled_back} rolled back, {stats.inserts} inserts, {stats.updates} updates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
