"""Helpers of the streaming integration tests: a config per test, run options, a silver plan, table reads,
waiting."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Callable, Optional

from lakehouse.config import Config
from lakehouse.schemas import CONTRACTS
from lakehouse.sinks.delta import ensure_table
from lakehouse.streaming.options import BronzeOptions, SilverOptions, Trigger, select_contracts
from lakehouse.streaming.reference import ensure_fx_rates
from lakehouse.streaming.silver import silver_plan
from lakehouse.streaming.silver_batch import SilverPlan
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


def new_checkpoint(path: str) -> str:
    """What Spark writes first into a new checkpoint: its query id (returned)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    query_id = str(uuid.uuid4())
    (folder / "metadata").write_text(json.dumps({"id": query_id}))
    return query_id


def transactions_plan(spark, tmp_path: Path) -> SilverPlan:
    """transaction_events' silver plan on this test's lake (contract_plan)."""
    return contract_plan(spark, tmp_path, "transaction_events")


def contract_plan(spark, tmp_path: Path, contract: str) -> SilverPlan:
    """A contract's silver plan on this test's lake: its tables (and FX rates, if it needs them) and a new
    checkpoint, as a query's start makes them."""
    cfg = stream_config(tmp_path, {contract: "unused"})
    needs_fx_rates = CONTRACTS[contract].needs_fx_rates
    plan = silver_plan(cfg, CONTRACTS[contract], ensure_fx_rates(spark, cfg) if needs_fx_rates else None)
    for spec in (plan.silver, plan.quarantine, plan.review):
        if spec is not None:
            ensure_table(spark, spec)  # as start_silver does
    new_checkpoint(plan.checkpoint)
    return plan


def table(spark, cfg: Config, layer: str, name: str):
    return spark.read.format("delta").load(cfg.lake.table_path(layer, name))


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str, check: Callable[[], None] = lambda: None,
             interval_s: float = 1.0, progress: Optional[Callable[[], object]] = None):
    """Polls `condition` until true; `check` runs each round and may raise (e.g. a query failed).

    With `progress` (a value that changes while the awaited work moves on, e.g. queries' batch ids),
    `timeout_s` counts from its last change: work slowed by a busy machine is waited for, stalled work
    is not."""
    deadline = time.monotonic() + timeout_s
    seen = progress() if progress is not None else None
    while True:
        check()
        if condition():
            return
        if progress is not None and (now := progress()) != seen:
            seen, deadline = now, time.monotonic() + timeout_s
        if time.monotonic() > deadline:
            idle = " with no progress" if progress is not None else ""
            raise AssertionError(f"timed out after {timeout_s:.0f}s{idle} waiting for {what}")
        time.sleep(interval_s)


def batch_ids(*runs) -> tuple:
    """The last micro-batch id of each query of `runs` (StreamingRuns): a `progress` for wait_for."""
    return tuple((query.lastProgress or {}).get("batchId") for run in runs for query in run.queries)
