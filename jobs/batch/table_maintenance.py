"""OPTIMIZE (optionally ZORDER BY) and VACUUM the lake's Delta tables listed in maintenance.tables."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Optional

from lakehouse.maintenance.job import add_arguments, run
from lakehouse.runtime.entrypoint import run_job


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_job("table_maintenance", __doc__, argv, run, add_arguments)


if __name__ == "__main__":
    sys.exit(main())
