"""Extracts the configured Postgres tables into Delta: incremental (default), full refresh, backfill, reconcile.

    lakehouse-postgres-extract --env prod [--tables orders,users|all] [--mode incremental]
    lakehouse-postgres-extract --mode backfill --tables orders --since 2024-05-01 --until 2024-05-02
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Optional

from lakehouse.extract.run import MODES, run
from lakehouse.runtime.entrypoint import run_job


def add_arguments(parser) -> None:
    parser.add_argument("--tables", default="all",
                        help="comma-separated names from extract.tables in the config, or all (default)")
    parser.add_argument("--mode", choices=MODES, default="incremental",
                        help="incremental (default); full-refresh; backfill (--since/--until); reconcile")
    parser.add_argument("--since", help="backfill: first cursor value to re-read, inclusive (ISO 8601; UTC "
                        "when no offset)")
    parser.add_argument("--until", help="backfill: cursor value to stop before, exclusive (default: no limit)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_job("postgres_extract", __doc__.splitlines()[0], argv, run, add_arguments)


if __name__ == "__main__":
    sys.exit(main())
