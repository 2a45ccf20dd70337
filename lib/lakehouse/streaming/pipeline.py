"""Kafka -> bronze -> silver in one driver: kafka_to_bronze's and bronze_to_silver's queries in one run.

One JVM and one Spark scheduler for both layers, instead of two drivers competing for the same cores.
The queries are the two jobs' own (lakehouse.streaming.bronze and .silver): same names, checkpoints,
tables and metric dimensions, so a lake can switch between the two jobs and this one on the same
checkpoints. Bronze starts first and so creates its tables before silver reads them. Processing-time:
bronze's start-up, then silver's, then all their queries (StreamingRun.starts_deferred: silver's start-up
ends before bronze's micro-batches compete with it for the cores); every query
runs until stopped, and one that fails leaves the others running.
Available-now: bronze's queries run to their end, then silver's, which so read what bronze just wrote;
a bronze failure ends the run before silver starts, as a failed kafka_to_bronze stops the DAG.
"""
from __future__ import annotations

import argparse

from lakehouse.config import Config
from lakehouse.ops import phases
from lakehouse.ops.metrics import publisher
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.options import BronzeOptions, SilverOptions, pipeline_options
from lakehouse.streaming.runner import StreamingRun
from lakehouse.streaming.silver import start_silver


def run_pipeline(spark, cfg: Config, args: argparse.Namespace) -> None:
    """The kafka_to_silver job."""
    bronze, silver = pipeline_options(cfg, args)
    to_completion = bronze.trigger.runs_to_completion
    run = StreamingRun(spark, cfg, publisher(cfg))
    if to_completion:
        start_bronze(spark, cfg, bronze, run)
        run.wait(until_all_done=True, end=False)
        if run.stopped:  # by another thread meanwhile
            return
        start_silver(spark, cfg, silver, run)
    else:
        start_always_on(spark, cfg, bronze, silver, run)
    run.wait(until_all_done=to_completion)


def start_always_on(spark, cfg: Config, bronze: BronzeOptions, silver: SilverOptions, run: StreamingRun) -> None:
    """Bronze's start-up, then silver's (each its own phases record: "start", "start silver"), then the
    queries of both."""
    with run.starts_deferred():
        with phases.batch("start", -1):
            start_bronze(spark, cfg, bronze, run)
        with phases.batch("start silver", -1):
            start_silver(spark, cfg, silver, run)
