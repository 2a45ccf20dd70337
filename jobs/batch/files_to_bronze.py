"""Ingests files landed by external loaders (Airbyte) into bronze, exactly once, and merges them into silver.

    lakehouse-files-ingest --env prod [--sources salesforce_account|all] [--trigger available-now]
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Optional

from lakehouse.landed.ingest import TRIGGERS, run
from lakehouse.runtime.entrypoint import run_job


def add_arguments(parser) -> None:
    parser.add_argument("--sources", default="all", help="comma-separated landed sources, or all (default)")
    parser.add_argument("--trigger", choices=TRIGGERS, default="available-now",
                        help="available-now: take the files landed so far, then stop (scheduled runs); "
                        "processing-time: keep running (landed_files.processing_time)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_job("files_to_bronze", __doc__.splitlines()[0], argv, run, add_arguments)


if __name__ == "__main__":
    sys.exit(main())
