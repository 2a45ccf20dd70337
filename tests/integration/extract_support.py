"""Helpers of the Postgres extract tests: a throwaway source schema, configs pointing at it, the job
started as a process, and the missed / duplicated / differing figures of a Delta table against its
source table, read without Spark."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from lakehouse.config import Config
from lakehouse.config.model import ExtractTableConfig
from lakehouse.extract.run import ExtractRequest, extract_table
from lakehouse.extract.summary import RunSummary
from lakehouse.runtime.executables import venv_executable
from lakehouse.sourcegen.seed import seed
from lakehouse.sources.postgres import connect
from tests.conftest import PROJECT_ROOT, unique_name


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


@contextlib.contextmanager
def icu_database(cfg: Config, icu_locale: str = "en-US") -> Iterator[Config]:
    """A throwaway database whose text sorts by ICU's `icu_locale` (the server's own is C), owned by
    the extract's role; yields `cfg` pointing at it and drops it afterwards."""
    from psycopg import sql

    from lakehouse.services.postgres import PostgresServer

    server = PostgresServer(cfg)
    name = unique_name("icu")
    with server.admin_connection() as conn:
        conn.execute(sql.SQL(
            "CREATE DATABASE {} OWNER {} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE {} LOCALE 'C.UTF-8'"
        ).format(sql.Identifier(name), sql.Identifier(cfg.postgres.user), sql.Literal(icu_locale)))
    try:
        yield dataclasses.replace(cfg, postgres=dataclasses.replace(cfg.postgres, database=name))
    finally:
        with server.admin_connection() as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


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


def with_table(cfg: Config, name: str, spec: ExtractTableConfig) -> Config:
    """`cfg` with one more configured extract table."""
    extract = dataclasses.replace(cfg.extract, tables={**cfg.extract.tables, name: spec})
    return dataclasses.replace(cfg, extract=extract)


def target_path(cfg: Config, name: str = "orders") -> str:
    spec = cfg.extract.tables[name]
    return cfg.lake.table_path(spec.target_layer, spec.target_name)


def job_argv(cfg: Config) -> list[str]:
    """Flags of the postgres_extract job for `cfg`'s orders table: its schema, target and safety delay."""
    spec = cfg.extract.tables["orders"]
    return ["--env", "local", "--tables", "orders",
            "--set", f"lake.root={cfg.lake.root}", "--set", f"lake.checkpoint_root={cfg.lake.checkpoint_root}",
            "--set", f"extract.tables.orders.schema={spec.schema}",
            "--set", f"extract.tables.orders.target_name={spec.target_name}",
            "--set", f"extract.safety_delay_s={cfg.extract.safety_delay_s}",
            "--set", "spark.driver_memory=1g", "--set", "spark.shuffle_partitions=2"]


def job_env() -> dict[str, str]:
    """This environment without LAKEHOUSE__* overrides: the job's config comes from its flags alone."""
    return {key: value for key, value in os.environ.items() if not key.startswith("LAKEHOUSE__")}


def start_job(cfg: Config, output: Path) -> subprocess.Popen:
    """Starts the console script `lakehouse-postgres-extract` on `cfg`'s orders table in its own
    process group, everything it prints going to `output`."""
    script = venv_executable("lakehouse-postgres-extract", "pip install -e . in the project's virtualenv")
    with open(output, "w") as out:
        return subprocess.Popen([script, *job_argv(cfg)], cwd=PROJECT_ROOT, start_new_session=True,
                                stdout=out, stderr=subprocess.STDOUT, env=job_env())


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
    examples: tuple = ()  # a few (key, source row, Delta row) of the differing keys

    def show(self, label: str) -> str:
        line = (f"{label}: missed={self.missed} duplicated={self.duplicated} extra={self.extra} "
                f"differing={self.differing}")
        print(line, *(f"  {example}" for example in self.examples), sep="\n")
        return line

    @property
    def all_zero(self) -> bool:
        return self.missed == self.duplicated == self.extra == self.differing == 0


def compare(cfg: Config, name: str = "orders") -> Figures:
    """Compares the Delta table with its source table by key and by exact values.

    Neither side goes through Spark: the source is read with psycopg and the target with the
    `deltalake` package, so a type mapping bug of the extract's JDBC read cannot hide on both
    sides. Values must be equal as Python values, Decimals also in scale (see `exact`).
    """
    columns, source = source_rows(cfg, name)
    target = target_rows(cfg, name, columns)
    key_at = [columns.index(key) for key in cfg.extract.tables[name].primary_key]

    def key_of(row: tuple) -> tuple:
        return tuple(row[i] for i in key_at)

    source_by_key = {key_of(row): exact(row) for row in source}
    target_by_key: dict[tuple, list[tuple]] = {}
    for row in target:
        target_by_key.setdefault(key_of(row), []).append(exact(row))
    differing = [(key, source_by_key[key], row) for key, rows in target_by_key.items() if key in source_by_key
                 for row in rows if row != source_by_key[key]]
    return Figures(
        missed=len(source_by_key.keys() - target_by_key.keys()),
        duplicated=len(target) - len(target_by_key),
        extra=len(target_by_key.keys() - source_by_key.keys()),
        differing=len({key for key, _, _ in differing}),
        examples=tuple(differing[:3]),
    )


def source_rows(cfg: Config, name: str = "orders") -> tuple[list[str], list[tuple]]:
    """The source table's column names and rows, read with psycopg in one statement."""
    from psycopg import sql

    spec = cfg.extract.tables[name]
    with connect(cfg.postgres, "lakehouse-tests") as conn:
        cursor = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(spec.schema, spec.table)))
        return [column.name for column in cursor.description], cursor.fetchall()


def target_rows(cfg: Config, name: str, columns: list[str]) -> list[tuple]:
    """The Delta table's rows, `columns` in that order, read with the `deltalake` package."""
    from deltalake import DeltaTable

    table = DeltaTable(target_path(cfg, name)).to_pyarrow_table(columns=columns)
    return list(zip(*(table.column(column).to_pylist() for column in columns)))


def exact(row: tuple) -> tuple:
    """The row as compared: a Decimal by its digits and scale (10.0 is not 10.00), timestamps as
    Python compares them (an aware one never equals a naive one; microseconds count)."""
    return tuple(("numeric", format(value, "f")) if isinstance(value, Decimal) else value for value in row)
