"""Bronze -> silver: typed, validated, deduplicated tables, and a quarantine for everything refused.

Per contract, one query reads bronze as a Delta stream. The handler (lakehouse.streaming.silver_batch)
parses each micro-batch (parse_records: contract checks, `reasons`), quarantines the rejected rows,
dedupes the accepted ones within the batch and MERGEs them, idempotently per batch. The query holds
no streaming state and no watermark, so no row is ever dropped as late, whatever order bronze
files are read in (a new checkpoint reads compacted files in modification order, not ingest order).
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
from typing import Optional

from lakehouse.config import Config
from lakehouse.lineage.datasets import lake_dataset
from lakehouse.ops import quality
from lakehouse.ops.metrics import publisher
from lakehouse.ops.phases import phase
from lakehouse.schemas import Contract
from lakehouse.sinks.delta import ensure_table
from lakehouse.streaming.checkpoint import query_id
from lakehouse.streaming.lock import acquire_checkpoint_lock
from lakehouse.streaming.options import SilverOptions, silver_options
from lakehouse.streaming.reference import ensure_fx_rates
from lakehouse.streaming.rewind import rekey_if_rewound
from lakehouse.streaming.runner import StreamingRun
from lakehouse.streaming.silver_batch import SilverPlan, handle_silver_batch, silver_app_id
from lakehouse.streaming.tables import (
    SILVER_JOB,
    bronze_table,
    quarantine_table,
    review_table,
    silver_checkpoint,
    silver_table,
)
from lakehouse.transforms.parsing import PARSED_COLUMNS, parse_records

log = logging.getLogger(__name__)


def run_silver(spark, cfg: Config, args: argparse.Namespace) -> None:
    """The bronze_to_silver job."""
    options = silver_options(cfg, args)
    start_silver(spark, cfg, options).wait(until_all_done=options.trigger.runs_to_completion)


def start_silver(spark, cfg: Config, options: SilverOptions, run: Optional[StreamingRun] = None) -> StreamingRun:
    """Starts one query per contract in `run` (a new one by default); on any failure, stops the run."""
    run = run if run is not None else StreamingRun(spark, cfg, publisher(cfg))
    try:
        if cfg.quality.record:
            with phase("ensure_table"):
                ensure_table(spark, quality.table_spec(cfg))  # before the queries: their first appends race
        needs_rates = any(c.needs_fx_rates for c in options.contracts)
        with phase("fx_rates"):
            fx_rates_path = ensure_fx_rates(spark, cfg) if needs_rates else None
        for contract in options.contracts:
            _start_contract(spark, cfg, contract, options, run, fx_rates_path)
    except BaseException:
        run.stop()
        raise
    return run


def silver_plan(cfg: Config, contract: Contract, fx_rates_path: Optional[str] = None) -> SilverPlan:
    """The handler's plan for one contract, with the FX rates and fraud rules its capabilities ask for."""
    return SilverPlan(
        contract=contract,
        checkpoint=silver_checkpoint(cfg, contract),
        silver=silver_table(cfg, contract),
        quarantine=quarantine_table(cfg, contract),
        review=review_table(cfg) if contract.fraud_review else None,
        fx_rates_path=fx_rates_path if contract.needs_fx_rates else None,
        fraud=cfg.streaming.fraud if contract.fraud_review else None,
        quality_results=cfg.lake.table_path(*quality.TABLE) if cfg.quality.record else None,
        accepted_share=cfg.quality.accepted_share,
        lineage_interval_s=cfg.lineage.batch_report_interval_s if cfg.lineage.enabled else None,
    )


def _start_contract(spark, cfg: Config, contract: Contract, options: SilverOptions, run: StreamingRun,
                    fx_rates_path: Optional[str]) -> None:
    # The handler parses each batch it reads (plan.parse), so a batch it skips as committed compiles no parse.
    plan = dataclasses.replace(silver_plan(cfg, contract, fx_rates_path),
                               parse=parse_records(contract, cfg.streaming.max_record_bytes))
    with phase("checkpoint_lock"):
        lock = acquire_checkpoint_lock(cfg, plan.checkpoint)
    if lock is not None:
        run.locks.append(lock)
    bronze = bronze_table(cfg, contract)
    written = [table for table in (plan.silver, plan.quarantine, plan.review) if table is not None]
    outputs = [table.path for table in written]
    written_paths = outputs + ([plan.quality_results] if plan.quality_results else [])
    with phase("ensure_table"):
        for table in (bronze, *written):
            ensure_table(spark, table)  # silver may start before bronze ever ran
    with phase("start_position"):
        if query_id(spark, plan.checkpoint) is not None:
            rekey_if_rewound(spark, plan.checkpoint, silver_app_id(spark, plan.checkpoint), written_paths)
    rows = (
        spark.readStream.format("delta")
        .option("maxFilesPerTrigger", options.max_files_per_trigger)
        # Bronze only ever changes rows in an erasure (lakehouse.erasure): its DELETE commit re-adds
        # rows silver already read, so it is skipped rather than failing the stream.
        .option("skipChangeCommits", "true")
        .load(bronze.path)
        .select(*PARSED_COLUMNS)
    )
    name = f"silver.{contract.silver_table} <- bronze.{contract.name}"
    run.metrics_listener.watch(name, job=SILVER_JOB, table=f"silver.{contract.silver_table}")
    if not options.trigger.runs_to_completion:  # the quality row's append needs no state (sinks.append_once)
        run.snapshot_warmer.watch(name, outputs)
    inputs = [bronze.path] + ([plan.fx_rates_path] if plan.fx_rates_path else [])
    run.lineage.watch(name, f"{SILVER_JOB}.silver.{contract.silver_table}",
                      [lake_dataset(path) for path in inputs], [lake_dataset(path) for path in outputs])
    with phase("query_start"):
        run.start(lambda: (
            rows.writeStream.foreachBatch(functools.partial(handle_silver_batch, plan=plan, metrics=run.metrics))
            .queryName(name)
            .option("checkpointLocation", plan.checkpoint)
            .trigger(**options.trigger.spark_options())
            .start()
        ))
    log.info("silver.%s: reading %s into %s (checkpoint %s, trigger %s)",
             contract.silver_table, bronze.path, plan.silver.path, plan.checkpoint, options.trigger.mode)
