"""Erase people's records from every lake table holding them (right to be forgotten): `lakehouse-erase`."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Optional

from lakehouse.erasure.job import add_arguments, run
from lakehouse.runtime.entrypoint import run_job


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_job("erase_person", __doc__, argv, run, add_arguments)


if __name__ == "__main__":
    sys.exit(main())
