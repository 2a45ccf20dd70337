"""Kafka -> bronze: one append-only Delta table per topic, exactly once, committed as Delta's sink does.

Exactly once: Spark records each micro-batch's offset range in the checkpoint before running it;
each batch's files are committed together with a transaction id (query id, batch id) in the table's
log, and a batch id already committed is skipped (lakehouse.streaming.bronze_sink: Delta's streaming
sink's commit, without the table's state). A crash at any point therefore either replays a batch that
is skipped or re-runs one that never committed, and every Kafka offset lands once.
So does a restart by the run (lakehouse.streaming.runner) after a commit conflict, e.g. with an
erasure changing the table's metadata.
Guards around it: a data-loss check before starting, an exclusive lock per checkpoint, a new
checkpoint continuing after the rows bronze already holds, a re-created topic refused and a
restored checkpoint moved aside (lakehouse.streaming.start). Rows carry the topic id they were
read from: a topic re-created while a query runs is caught only at the next start (README).
"""
from __future__ import annotations

import argparse
import functools
import logging
from typing import Optional

from pyspark.sql import functions as F

from lakehouse.config import Config
from lakehouse.kafka.topic_id import topic_id
from lakehouse.lineage.datasets import kafka_dataset, lake_dataset
from lakehouse.ops.metrics import publisher
from lakehouse.ops.phases import phase
from lakehouse.schemas import Contract
from lakehouse.sinks.delta import ensure_table
from lakehouse.streaming.backfill import run_backfill
from lakehouse.streaming.bronze_sink import append_batch
from lakehouse.streaming.kafka_source import kafka_source_options
from lakehouse.streaming.lock import acquire_checkpoint_lock
from lakehouse.streaming.metrics import observe_newest
from lakehouse.streaming.options import BronzeOptions, bronze_options
from lakehouse.streaming.runner import StreamingRun
from lakehouse.streaming.start import plan_start
from lakehouse.streaming.tables import BRONZE_JOB, bronze_checkpoint, bronze_table
from lakehouse.transforms.bronze import with_bronze_columns

log = logging.getLogger(__name__)


def run_bronze(spark, cfg: Config, args: argparse.Namespace) -> None:
    """The kafka_to_bronze job: stream every selected topic, or backfill a range when asked."""
    options = bronze_options(cfg, args)
    if options.backfill_from is not None:
        run_backfill(spark, cfg, options)
        return
    start_bronze(spark, cfg, options).wait(until_all_done=options.trigger.runs_to_completion)


def start_bronze(spark, cfg: Config, options: BronzeOptions, run: Optional[StreamingRun] = None) -> StreamingRun:
    """Starts one query per topic in `run` (a new one by default); on any failure, stops the run."""
    run = run if run is not None else StreamingRun(spark, cfg, publisher(cfg))
    try:
        for contract in options.contracts:
            _start_topic(spark, cfg, contract, options, run)
    except BaseException:
        run.stop()
        raise
    return run


def _start_topic(spark, cfg: Config, contract: Contract, options: BronzeOptions, run: StreamingRun) -> None:
    topic = cfg.streaming.topics[contract.name]
    table = bronze_table(cfg, contract)
    checkpoint = bronze_checkpoint(cfg, contract)
    with phase("checkpoint_lock"):
        lock = acquire_checkpoint_lock(cfg, checkpoint)
    if lock is not None:
        run.locks.append(lock)
    with phase("ensure_table"):
        ensure_table(spark, table)
    reader = (
        spark.readStream.format("kafka")
        .options(**kafka_source_options(cfg, topic))
        .option("maxOffsetsPerTrigger", options.max_offsets_per_trigger)
    )
    if options.min_partitions:
        reader = reader.option("minPartitions", options.min_partitions)
    with phase("start_position"):
        with phase("topic_id"):
            incarnation = topic_id(cfg, topic)
        starting = plan_start(spark, cfg, topic, incarnation, table.path, checkpoint, options.starting_offsets,
                              options.accept_recreated_topic)
    if starting is not None:
        reader = reader.option("startingOffsets", starting)
    name = f"bronze.{contract.name} <- {topic}"
    run.metrics_listener.watch(name, job=BRONZE_JOB, table=f"bronze.{contract.name}")
    run.lineage.watch(name, f"{BRONZE_JOB}.bronze.{contract.name}",
                      [kafka_dataset(cfg.kafka.bootstrap_servers, topic)], [lake_dataset(table.path)])
    rows = reader.load().transform(with_bronze_columns(F.current_timestamp(), incarnation)).transform(observe_newest)
    with phase("query_start"):
        run.start(lambda: (
            rows.writeStream.foreachBatch(functools.partial(append_batch, path=table.path, checkpoint=checkpoint,
                                                            log_checkpoints=run.log_checkpoints))
            .queryName(name)
            .option("checkpointLocation", checkpoint)
            .trigger(**options.trigger.spark_options())
            .start()
        ))
    log.info("bronze.%s: reading Kafka topic %s (id %s) into %s (checkpoint %s, trigger %s)",
             contract.name, topic, incarnation, table.path, checkpoint, options.trigger.mode)
