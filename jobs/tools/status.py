"""Prints, per lake table: last commit, freshness, consumer lag, last quality result and the writer's last failure."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Optional

from lakehouse.ops.status import render, table_status
from lakehouse.runtime.entrypoint import configure_logging, parse_config


def main(argv: Optional[Sequence[str]] = None) -> int:
    configure_logging("WARNING")
    cfg, _ = parse_config(__doc__, argv)
    print(render(table_status(cfg)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
