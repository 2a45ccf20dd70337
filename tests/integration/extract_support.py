"""Helpers of the Postgres extract tests: a throwaway source schema, configs pointing at it, and the
missed / duplicated / differing figures of a Delta table against its source table."""
from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

from lakehouse.config import Config
from lakehouse.extract.run import ExtractRequest, extract_table
from lakehouse.extract.summary import RunSummary
from lakehouse.sourcegen.seed import seed
from lakehouse.sources.postgres import connect
from tests.conftest import unique_name


@contextlib.contextmanager
def source_schema(cfg: Config, users: int = 20, orders: int = 100) -> Iterator[str]:
    """A fresh schema with seeded users and orders tables, dropped afterwards."""
    schema = unique_name("src")
    with writer(cfg) as conn:
        seed(conn, schema, users=users, orders=orders)
    try:
        yield schema
    finally:
        with writer(cfg) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def writer(cfg: Config):
    """A writable autocommit connection for setting up and changing source rows."""
    return connect(cfg.postgres, "lakehouse-tests", read_only=False)


def extract_config(cfg: Config, schema: str, guard: str = "in_flight", delay: float = 0.5, **table_settings) -> Config:
    """`cfg` with the configured users/orders tables read from `schema` into unique targets."""
    tables = {
        name: dataclasses.replace(spec, schema=schema, target_name=f"{name}_{schema}", **table_settings)
        for name, spec in cfg.extract.tables.items()
    }
    extract = dataclasses.replace(cfg.extract, tables=tables, late_commit_guard=guard, safety_delay_s=delay)
    return dataclasses.replace(cfg, extract=extract)


def target_path(cfg: Config, name: str = "orders") -> str:
    spec = cfg.extract.tables[name]
    return cfg.lake.table_path(spec.target_layer, spec.target_name)


def run(spark, cfg: Config, name: str = "orders", mode: str = "incremental", **flags) -> RunSummary:
    summary = extract_table(spark, cfg, name, ExtractRequest(mode, **flags))
    print(summary.line())
    return summary


@dataclasses.dataclass(frozen=True)
class Figures:
    """How a Delta table differs from its source table; every figure must be 0."""

    missed: int       # source keys absent from Delta
    duplicated: int   # Delta rows beyond one per key
    extra: int        # Delta keys absent from the source
    differing: int    # keys in both whose row content differs

    def show(self, label: str) -> str:
        line = (f"{label}: missed={self.missed} duplicated={self.duplicated} extra={self.extra} "
                f"differing={self.differing}")
        print(line)
        return line

    @property
    def all_zero(self) -> bool:
        return self.missed == self.duplicated == self.extra == self.differing == 0


def compare(spark, cfg: Config, name: str = "orders") -> Figures:
    """Reads the source table (JDBC, one snapshot) and the Delta table and compares them by key and content."""
    spec = cfg.extract.tables[name]
    key = list(spec.primary_key)
    source = (
        spark.read.format("jdbc").options(**cfg.postgres.jdbc_options())
        .option("dbtable", f'"{spec.schema}"."{spec.table}"').option("fetchsize", "1000").load()
        .localCheckpoint()
    )
    target = spark.read.format("delta").load(target_path(cfg, name)).select(*source.columns)
    missed = source.select(key).subtract(target.select(key)).count()
    extra = target.select(key).subtract(source.select(key)).count()
    duplicated = target.count() - target.select(key).distinct().count()
    differing = source.exceptAll(target).count() - missed
    return Figures(missed, duplicated, extra, differing)
