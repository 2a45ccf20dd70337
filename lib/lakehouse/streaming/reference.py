"""reference.fx_rates: a small Delta table of USD rates, seeded once from a CSV file in the repo.

The seed (`streaming.fx_rates_seed`, conf/reference/fx_rates.csv locally) is loaded when the table
does not exist yet; later rates are appended to the table (one row per currency and rate_date),
and silver reads the table at every micro-batch, so new rates apply without a restart.
"""
from __future__ import annotations

import logging

from lakehouse.config import Config
from lakehouse.sinks.delta import merge_into
from lakehouse.streaming.tables import FX_RATES_MERGE, fx_rates_table

log = logging.getLogger(__name__)


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
