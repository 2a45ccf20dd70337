"""Helpers of the streaming integration tests: a config per test, run options, table reads, waiting."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Optional

from lakehouse.config import Config
from lakehouse.streaming.options import BronzeOptions, SilverOptions, Trigger, select_contracts
from tests.conftest import local_config


def stream_config(tmp_path: Path, topics: dict[str, str], *overrides: str) -> Config:
    """Local config with its own lake and checkpoints, the contracts mapped to throwaway topics."""
    return local_config(
        f"lake.root={tmp_path}/lake",
        f"lake.checkpoint_root={tmp_path}/checkpoints",
        "spark.shuffle_partitions=2",
        *(f"streaming.topics.{contract}={topic}" for contract, topic in topics.items()),
        *overrides,
    )


def bronze_options(contracts: str, trigger: str = "available-now", max_offsets: int = 10_000,
                   starting_offsets: Optional[str] = None) -> BronzeOptions:
    return BronzeOptions(select_contracts(contracts), Trigger(trigger, "1 second"), max_offsets, None,
                         starting_offsets, None, None)


def silver_options(contracts: str, trigger: str = "available-now", max_files: int = 1000) -> SilverOptions:
    return SilverOptions(select_contracts(contracts), Trigger(trigger, "1 second"), max_files)


def table(spark, cfg: Config, layer: str, name: str):
    return spark.read.format("delta").load(cfg.lake.table_path(layer, name))


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str, check: Callable[[], None] = lambda: None,
             interval_s: float = 1.0):
    """Polls `condition` until true; `check` runs each round and may raise (e.g. a query failed)."""
    deadline = time.monotonic() + timeout_s
    while True:
        check()
        if condition():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(interval_s)
