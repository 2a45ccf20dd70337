"""reference.fx_rates: a small Delta table of USD rates, seeded once from a CSV file in the repo.

The seed (`streaming.fx_rates_seed`, conf/reference/fx_rates.csv locally) is loaded when the table
does not exist yet; later rates are appended to the table (one row per currency and rate_date).
Silver checks the table's version at every micro-batch (from the Delta log, no Spark job) and reads
it again only when it changed, so new rates apply without a restart.
"""
from __future__ import annotations

import logging
import threading

from lakehouse.config import Config
from lakehouse.sinks.delta import merge_into, table_version
from lakehouse.streaming.tables import FX_RATES_MERGE, fx_rates_table

log = logging.getLogger(__name__)

_in_force: dict = {}  # path -> (table version, schema, rows of rates_in_force)
_in_force_lock = threading.Lock()


class ReferenceDataError(RuntimeError):
    """Reference data a job needs is missing."""


def ensure_fx_rates(spark, cfg: Config) -> str:
    """Seeds reference.fx_rates if it does not exist; returns its path."""
    from delta.tables import DeltaTable
    from pyspark.errors import AnalysisException

    table = fx_rates_table(cfg)
    if not DeltaTable.isDeltaTable(spark, table.path):
        try:
            seed = spark.read.csv(
                cfg.streaming.fx_rates_seed, schema=table.schema, header=True, comment="#", mode="FAILFAST"
            )
        except AnalysisException as exc:
            if exc.getErrorClass() != "PATH_NOT_FOUND":
                raise
            raise ReferenceDataError(
                f"streaming.fx_rates_seed: {cfg.streaming.fx_rates_seed} does not exist, and {table.path} has not "
                "been seeded yet; on S3 it ships with the release (lakehouse-ship-artifacts uploads "
                "conf/reference/fx_rates.csv there)"
            ) from None
        outcome = merge_into(seed, table, FX_RATES_MERGE)
        log.info("seeded %s with %d rates from %s", table.path, outcome.inserted, cfg.streaming.fx_rates_seed)
    return table.path


def fx_rates_in_force(spark, path: str):
    """reference.fx_rates as `rates_in_force` rows, in a DataFrame of the driver's memory (no Spark job
    to read it): read again only when the table's version changed since the last call."""
    from lakehouse.transforms.transactions import rates_in_force

    version = table_version(spark, path)
    with _in_force_lock:
        cached = _in_force.get(path)
        if cached is None or cached[0] != version:
            in_force = rates_in_force(spark.read.format("delta").option("versionAsOf", version).load(path))
            cached = _in_force[path] = (version, in_force.schema, in_force.collect())
    return spark.createDataFrame(cached[2], cached[1])
