"""The one flow of every job: flags -> config -> SparkSession -> run(spark, cfg, args).

Each file under jobs/ is a thin `main(argv)` that calls `run_job` with its own flags and its
`run` function from the library, so spark-submit, an EMR step, Airflow and tests drive the
same code. Every flag also reads an environment variable (LAKEHOUSE_ENV, LAKEHOUSE_CONF_DIR).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional

from lakehouse.config import Config, ConfigError, describe, load_config
from lakehouse.ops.phases import phase

log = logging.getLogger("lakehouse")

AddArguments = Callable[[argparse.ArgumentParser], None]


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    logging.getLogger("py4j").setLevel(logging.WARNING)


def default_conf_dir() -> Path:
    """./conf when run from the project root, else the conf/ next to the installed sources."""
    here = Path.cwd() / "conf"
    if (here / "base.yaml").is_file():
        return here
    return Path(__file__).resolve().parents[3] / "conf"


def common_parser(description: str, add_arguments: Optional[AddArguments] = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--env", default=os.environ.get("LAKEHOUSE_ENV", "local"),
                        help="environment: conf/<env>.yaml (env LAKEHOUSE_ENV, default local)")
    parser.add_argument("--conf-dir", default=os.environ.get("LAKEHOUSE_CONF_DIR"),
                        help="folder with base.yaml and <env>.yaml (env LAKEHOUSE_CONF_DIR, default ./conf)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config key, e.g. --set spark.shuffle_partitions=4 (repeatable)")
    if add_arguments:
        add_arguments(parser)
    return parser


def parse_config(
    description: str, argv: Optional[Sequence[str]], add_arguments: Optional[AddArguments] = None
) -> tuple[Config, argparse.Namespace]:
    """Parses flags and loads the config; a bad config exits with status 2 and the full message."""
    parser = common_parser(description, add_arguments)
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.env, args.conf_dir or default_conf_dir(), args.overrides)
    except ConfigError as exc:
        parser.exit(2, f"{parser.prog}: {exc}\n")
    return cfg, args


def log_effective_config(job: str, cfg: Config) -> None:
    log.info("%s: effective config (secrets shown as references)\n  %s", job, "\n  ".join(describe(cfg)))


def run_job(
    job: str,
    description: str,
    argv: Optional[Sequence[str]],
    run: Callable[[Any, Config, argparse.Namespace], Any],
    add_arguments: Optional[AddArguments] = None,
) -> int:
    """Runs a Spark job end to end and returns its exit status (0 ok, 1 failed, 2 bad config)."""
    from lakehouse.spark import build_spark, stop_spark

    configure_logging()
    cfg, args = parse_config(description, argv, add_arguments)
    log_effective_config(job, cfg)
    started = time.monotonic()
    with phase("spark_start"):
        spark = build_spark(cfg, job)
    try:
        run(spark, cfg, args)
    except Exception:
        log.exception("%s failed after %.1fs", job, time.monotonic() - started)
        report_failure(cfg, job)
        return 1
    finally:
        with phase("spark_stop"):
            stop_spark(spark)
    log.info("%s finished in %.1fs", job, time.monotonic() - started)
    return 0


def report_failure(cfg: Config, job: str) -> None:
    """Sends the job's `Failures` datum (lakehouse-status shows the newest; never raises)."""
    from lakehouse.ops.metrics import publisher

    metrics = publisher(cfg)
    metrics.emit("Failures", 1, job=job)
    metrics.close(timeout_s=10)
