"""Injection attempts through configured names and through values, against the real extract.

A name that is not in the catalog fails before anything runs; a name that is (however hostile) is
only ever quoted; values reach Spark's SQL only as typed literals. The target table and a canary
table survive every attempt.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import time

import pytest

from lakehouse.extract.identifiers import IdentifierError
from lakehouse.extract.literals import LiteralError
from lakehouse.extract.read import jdbc_read_options
from lakehouse.extract.state import table_version
from lakehouse.sources.postgres import connect
from tests.conftest import unique_name
from tests.integration.extract_support import compare, extract_config, run, source_schema, target_path, writer

pytestmark = pytest.mark.usefixtures("postgres_service")

DELAY = 0.5


def with_orders(cfg, **changes):
    tables = dict(cfg.extract.tables, orders=dataclasses.replace(cfg.extract.tables["orders"], **changes))
    return dataclasses.replace(cfg, extract=dataclasses.replace(cfg.extract, tables=tables))


def canary_rows(cfg, schema: str, canary: str) -> int:
    with writer(cfg) as conn:
        return conn.execute(f'SELECT count(*) FROM "{schema}"."{canary}"').fetchone()[0]


def test_hostile_names_in_config_fail_clearly_and_touch_nothing(spark, cfg):
    with source_schema(cfg, users=5, orders=30) as schema:
        canary = unique_name("x")
        with writer(cfg) as conn:
            conn.execute(f'CREATE TABLE "{schema}"."{canary}" AS SELECT 1 AS id')
        job = extract_config(cfg, schema, delay=DELAY)
        time.sleep(DELAY)
        run(spark, job)
        version = table_version(spark, target_path(job))
        drop = f"; DROP TABLE {schema}.{canary}--"
        attempts = {
            "table": {"table": f"orders{drop}"},
            "schema": {"schema": f"{schema}{drop}"},
            "cursor_column": {"cursor_column": f"updated_at{drop}"},
            "primary_key": {"primary_key": [f"order_id{drop}"]},
            "partition_column": {"partition_column": f"order_id{drop}", "num_partitions": 2},
            "quote breaking out": {"table": 'orders" ; DROP TABLE x; --'},
        }
        for role, changes in attempts.items():
            with pytest.raises(IdentifierError) as refused:
                run(spark, with_orders(job, **changes))
            message = str(refused.value)
            print(f"{role}: {message}")
            assert "not found in information_schema" in message or "is not a column of" in message
            assert repr(next(iter(changes.values()))).strip("[]") in message

        assert table_version(spark, target_path(job)) == version, "the target table was not written"
        assert compare(job).all_zero, "the target table still equals the source"
        assert canary_rows(cfg, schema, canary) == 1


def test_a_real_table_with_a_hostile_name_is_read_as_a_plain_identifier(spark, cfg):
    with source_schema(cfg, users=1, orders=0) as schema:
        canary = unique_name("x")
        hostile_table = f"orders; DROP TABLE {schema}.{canary}--"
        hostile_note = f"'); DROP TABLE {schema}.{canary}; --"
        with writer(cfg) as conn:
            conn.execute(f'CREATE TABLE "{schema}"."{canary}" AS SELECT 1 AS id')
            conn.execute(f'CREATE TABLE "{schema}"."{hostile_table}" (id bigint PRIMARY KEY, '
                         'updated_at timestamptz NOT NULL, "note""--" text)')
            conn.execute(f'INSERT INTO "{schema}"."{hostile_table}" VALUES '
                         "(1, '2024-01-01', %s), (2, '2024-01-01', NULL), (3, '2024-01-02', 'plain')",
                         (hostile_note,))
        job = with_orders(extract_config(cfg, schema, delay=DELAY), table=hostile_table, primary_key=["id"],
                          cursor_column="updated_at", partition_column="id", num_partitions=2)

        summary = run(spark, job)

        assert summary.rows_read == 3
        target = spark.read.format("delta").load(target_path(job))
        assert target.columns == ["id", "updated_at", 'note"--']
        assert sorted((r.id, r['note"--']) for r in target.collect()) == [(1, hostile_note), (2, None), (3, "plain")]
        assert canary_rows(cfg, schema, canary) == 1


def test_hostile_key_values_are_rendered_as_literals_and_read_exactly(spark, cfg):
    with source_schema(cfg, users=1, orders=0) as schema:
        canary = unique_name("x")
        keys = [f"a'); DROP TABLE {schema}.{canary}; --", "b\\'", 'c"', "d--", "e;/*", "f\u00e9\u4e2d"]
        with writer(cfg) as conn:
            conn.execute(f'CREATE TABLE "{schema}"."{canary}" AS SELECT 1 AS id')
            conn.execute(f'CREATE TABLE "{schema}".codes (code text PRIMARY KEY, updated_at timestamptz NOT NULL)')
            tie = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
            for key in keys:  # one cursor value for all: every run boundary lands on a hostile key
                conn.execute(f'INSERT INTO "{schema}".codes VALUES (%s, %s)', (key, tie))
        job = with_orders(extract_config(cfg, schema, delay=DELAY), table="codes", primary_key=["code"],
                          cursor_column="updated_at", partition_column=None, num_partitions=1, max_rows_per_run=2)

        reads = [run(spark, job) for _ in range(3)]

        assert [s.rows_read for s in reads] == [2, 2, 2]
        assert [s.new_position.key[0] for s in reads] == sorted(keys)[1::2]
        extracted = [r.code for r in spark.read.format("delta").load(target_path(job)).collect()]
        missed, duplicated = len(set(keys) - set(extracted)), len(extracted) - len(set(extracted))
        print(f"hostile keys: missed={missed} duplicated={duplicated}")
        assert sorted(extracted) == sorted(keys)
        assert canary_rows(cfg, schema, canary) == 1


def test_hostile_flag_values_are_refused_before_anything_runs(spark, cfg):
    with source_schema(cfg, users=1, orders=5) as schema:
        job = extract_config(cfg, schema, delay=DELAY)
        for since in ("2024-01-01'; DROP TABLE orders; --", "1 OR 1=1", "now()"):
            with pytest.raises(LiteralError, match="not an ISO 8601 timestamp"):
                run(spark, job, mode="backfill", since=since)
        assert table_version(spark, target_path(job)) is None, "nothing was created"


def test_extract_connections_and_spark_reads_cannot_write(spark, cfg):
    from psycopg import errors
    from py4j.protocol import Py4JJavaError

    with source_schema(cfg, users=1, orders=1) as schema:
        with connect(cfg.postgres, "tests") as conn, pytest.raises(errors.ReadOnlySqlTransaction):
            conn.execute(f'DELETE FROM "{schema}".orders')
        with connect(cfg.postgres, "tests") as conn:
            from lakehouse.extract.identifiers import resolve_table

            table = resolve_table(conn, extract_config(cfg, schema).extract.tables["orders"])
        options = jdbc_read_options(table, "TRUE", 100)
        options["dbtable"] = f"(SELECT nextval(pg_get_serial_sequence('\"{schema}\".orders', 'order_id'))) AS w"
        with pytest.raises(Py4JJavaError, match="read-only transaction"):
            spark.read.format("jdbc").options(**cfg.postgres.jdbc_options()).options(**options).load().collect()
