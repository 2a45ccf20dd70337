"""A first build of the whole project on the Snowflake target's SQL, against fakesnow (a Snowflake emulator
on DuckDB), with the generated silver rows loaded into the source tables.

What the emulator cannot check, and where it is checked instead: external tables (the DDL text, in
tests/unit/test_dbt_snowflake.py), GRANT (skipped on the `emulator` target), dbt unit tests and second
incremental runs (fakesnow rejects dbt-snowflake's qualified temporary tables; both run on the local target).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from lakehouse.warehouse.dbt_runner import run_dbt
from tests.conftest import local_config
from tests.integration.revenue_recomputation import (
    assert_marts_equal,
    expected_daily_revenue,
    expected_monthly_revenue,
)
from tests.integration.silver_sample import SilverRows, generate_silver_rows

pytestmark = pytest.mark.slow

LAKE = "s3://company-data-lake/lakehouse"


@pytest.fixture(scope="module")
def emulator():
    """fakesnow's server in a thread; yields the connection arguments of snowflake.connector."""
    import fakesnow

    with fakesnow.server() as connection_args:
        yield connection_args


def snowflake_rows(rows: list[dict], columns: list[str]) -> list[tuple]:
    """Rows as the external tables show them: timestamps as text, arrays left out (fakesnow cannot bind them)."""
    def value(row, column):
        item = row[column]
        if isinstance(item, datetime):
            return item.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        return None if isinstance(item, list) else item

    return [tuple(value(row, column) for column in columns) for row in rows]


def load_sources(connection_args: dict, manifest: dict, silver: SilverRows) -> None:
    """Creates each source as a plain table with its documented Snowflake columns, and loads the rows."""
    import snowflake.connector

    with snowflake.connector.connect(**connection_args) as connection:
        cursor = connection.cursor()
        for source in manifest["sources"].values():
            database, schema, table = source["database"], source["schema"], source["identifier"]
            columns = list(source["columns"])
            cursor.execute(f"create database if not exists {database}")
            cursor.execute(f"create schema if not exists {database}.{schema}")
            definition = ", ".join(f"{c} {source['columns'][c]['data_type']}" for c in columns)
            cursor.execute(f"create or replace table {database}.{schema}.{table} ({definition})")
            cursor.executemany(
                f"insert into {database}.{schema}.{table} ({', '.join(columns)}) "
                f"values ({', '.join(['%s'] * len(columns))})",
                snowflake_rows(silver.tables[table], columns),
            )


def test_first_build_and_freshness_on_snowflake_sql_equal_the_recomputation(emulator, tmp_path, monkeypatch):
    import snowflake.connector

    monkeypatch.setenv("FAKESNOW_PORT", str(emulator["port"]))
    cfg = local_config(f"lake.root={LAKE}")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    silver = generate_silver_rows(now.date(), now)
    parse = run_dbt(cfg, ["parse"], target="emulator", work_dir=str(tmp_path))
    assert parse.returncode == 0, parse.output[-3000:]
    load_sources(emulator, json.loads((tmp_path / "target" / "manifest.json").read_text()), silver)

    build = run_dbt(cfg, ["build", "--exclude-resource-type", "unit_test"], target="emulator", work_dir=str(tmp_path))

    assert build.returncode == 0, build.output[-5000:]
    assert build.failures == {}
    assert len([node for node in build.statuses if node.startswith("model.")]) == 14
    with snowflake.connector.connect(**emulator) as connection:
        cursor = connection.cursor(snowflake.connector.DictCursor)

        def query(sql: str) -> list[dict]:
            return [{k.lower(): v for k, v in row.items()} for row in cursor.execute(sql).fetchall()]

        monthly = query("select * from ANALYTICS.ANALYTICS_MARTS.FCT_MONTHLY_REVENUE")
        daily = query("select * from ANALYTICS.ANALYTICS_MARTS.FCT_DAILY_REVENUE")
        pii = query("select email from ANALYTICS.ANALYTICS_MARTS.VW_CUSTOMER_PII where user_id = 3")
    assert_marts_equal(monthly, expected_monthly_revenue(silver.tables["orders"]), "revenue_month")
    assert_marts_equal(daily, expected_daily_revenue(silver.tables["orders"]), "revenue_date")
    assert pii == [{"email": "us***@example.com"}], "masked: the emulator's role is not privileged"
    freshness = run_dbt(cfg, ["source", "freshness"], target="emulator", work_dir=str(tmp_path))
    assert freshness.returncode == 0, freshness.output[-3000:]
    assert set(freshness.statuses.values()) == {"pass"}
    view_ddl = next((tmp_path / "target" / "run").rglob("vw_customer_pii.sql")).read_text()
    assert re.search(r"create or replace secure\s+view ANALYTICS\.ANALYTICS_marts\.vw_customer_pii", view_ddl)
