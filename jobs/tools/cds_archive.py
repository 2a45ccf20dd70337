"""Records the class-data sharing archive local Spark drivers start with (lakehouse.spark.cds), if missing.

    lakehouse-cds [--env local]      (`make setup` runs it; about a minute the first time, then nothing)
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Optional

from lakehouse.runtime.entrypoint import configure_logging, default_conf_dir, parse_config
from lakehouse.spark.cds import build_archive


def main(argv: Optional[Sequence[str]] = None) -> int:
    configure_logging()
    cfg, args = parse_config(__doc__.splitlines()[0], argv)
    try:
        config_args = ["--env", args.env, "--conf-dir", str(args.conf_dir or default_conf_dir()),
                       *(f"--set={override}" for override in args.overrides)]
        build_archive(cfg, config_args)
    except RuntimeError as exc:
        print(f"lakehouse-cds: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
