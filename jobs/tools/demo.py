"""Runs the whole pipeline on the local stack and prints what each step did (`make demo`)."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Optional

from lakehouse.demo.steps import run_demo
from lakehouse.runtime.entrypoint import configure_logging, parse_config


def main(argv: Optional[Sequence[str]] = None) -> int:
    configure_logging("WARNING")
    cfg, _ = parse_config(__doc__, argv)
    if cfg.env != "local":
        print("the demo runs on the local environment only (--env local)", file=sys.stderr)
        return 2
    state = run_demo(cfg)
    print("\nSummary:")
    for key, value in state.items():
        print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
