"""A first build of the whole project on the Snowflake target's SQL, against fakesnow (a Snowflake emulator
on DuckDB), with the generated silver rows loaded into the source tables.

What the emulator cannot check, and where it is checked instead: external tables (the DDL text, in
tests/unit/test_dbt_snowflake.py), dbt unit tests and second incremental runs (fakesnow rejects dbt-snowflake's
qualified temporary tables; both run on the local target). fakesnow does not parse masking policies, GRANT or
search optimization: on the `emulator` target dbt logs those statements (`governance: ...;`) instead of running
them, and the tests below check the logged statements against the yml, and run the policies' bodies.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lakehouse.warehouse.dbt_runner import DbtRun, run_dbt
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


@dataclass
class EmulatorBuild:
    """The project built once on fakesnow: the dbt run, its manifest and the silver rows it read."""

    connection_args: dict
    work: Path
    run: DbtRun
    silver: SilverRows

    @property
    def manifest(self) -> dict:
        return json.loads((self.work / "target" / "manifest.json").read_text())

    def query(self, sql: str) -> list[dict]:
        import snowflake.connector

        with snowflake.connector.connect(**self.connection_args) as connection:
            cursor = connection.cursor(snowflake.connector.DictCursor)
            return [{k.lower(): v for k, v in row.items()} for row in cursor.execute(sql).fetchall()]

    def governance_statements(self) -> list[str]:
        """The statements dbt logged for Snowflake governance (run on Snowflake, logged only here)."""
        return re.findall(r"governance: (.*);$", self.run.output, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def built(emulator, tmp_path_factory) -> EmulatorBuild:
    work = tmp_path_factory.mktemp("dbt_emulator")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FAKESNOW_PORT", str(emulator["port"]))
        cfg = local_config(f"lake.root={LAKE}")
        now = datetime.now(timezone.utc).replace(microsecond=0)
        silver = generate_silver_rows(now.date(), now)
        parse = run_dbt(cfg, ["parse"], target="emulator", work_dir=str(work))
        assert parse.returncode == 0, parse.output[-3000:]
        load_sources(emulator, json.loads((work / "target" / "manifest.json").read_text()), silver)
        build = run_dbt(cfg, ["build", "--exclude-resource-type", "unit_test"], target="emulator", work_dir=str(work))
    return EmulatorBuild(emulator, work, build, silver)


def pii_columns(node: dict) -> dict[str, str]:
    """{column: masking policy kind} of the columns the yml marks as personal data."""
    columns = {}
    for name, column in node["columns"].items():
        meta = {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}
        if meta.get("pii") is True:
            columns[name] = meta.get("masking_policy", "hash")
    return columns


def test_first_build_and_freshness_on_snowflake_sql_equal_the_recomputation(built, monkeypatch):
    build, silver = built.run, built.silver
    assert build.returncode == 0, build.output[-5000:]
    assert build.failures == {}
    assert len([node for node in build.statuses if node.startswith("model.")]) == 14
    monthly = built.query("select * from ANALYTICS.ANALYTICS_FINANCE.FCT_MONTHLY_REVENUE")
    daily = built.query("select * from ANALYTICS.ANALYTICS_FINANCE.FCT_DAILY_REVENUE")
    pii = built.query("select email from ANALYTICS.ANALYTICS_MARTS.VW_CUSTOMER_PII where user_id = 3")
    assert_marts_equal(monthly, expected_monthly_revenue(silver.tables["orders"]), "revenue_month")
    assert_marts_equal(daily, expected_daily_revenue(silver.tables["orders"]), "revenue_date")
    assert pii == [{"email": "us***@example.com"}], "masked: the emulator's role is not privileged"
    monkeypatch.setenv("FAKESNOW_PORT", str(built.connection_args["port"]))
    freshness = run_dbt(local_config(f"lake.root={LAKE}"), ["source", "freshness"], target="emulator",
                        work_dir=str(built.work))
    assert freshness.returncode == 0, freshness.output[-3000:]
    assert set(freshness.statuses.values()) == {"pass"}
    view_ddl = next((built.work / "target" / "run").rglob("vw_customer_pii.sql")).read_text()
    assert re.search(r"create or replace secure\s+view ANALYTICS\.ANALYTICS_marts\.vw_customer_pii", view_ddl)


def model_nodes(manifest: dict) -> list[dict]:
    return [node for node in manifest["nodes"].values() if node["resource_type"] in ("model", "snapshot")]


def test_every_pii_column_gets_its_masking_policy_once_the_policies_exist(built):
    statements = built.governance_statements()
    expected = set()
    for node in model_nodes(built.manifest):
        kind = "view" if node["config"]["materialized"] == "view" else "table"
        for column, policy in pii_columns(node).items():
            expected.add(f"alter {kind} {node['relation_name']} modify column {column} "
                         f"set masking policy ANALYTICS.GOVERNANCE.PII_{policy.upper()} force")

    applied = [s for s in statements if "set masking policy" in s]
    assert set(applied) == expected
    assert {s.split()[2].split(".")[-1] for s in applied} == {"stg_users__users", "snap_users", "vw_customer_pii"}
    created = [i for i, s in enumerate(statements) if s.startswith("create masking policy if not exists")]
    assert len(created) == 3
    assert max(created) < statements.index(applied[0]), "the policies exist before they are set"


@pytest.mark.parametrize(("policy", "value", "masked"), [
    ("PII_EMAIL", "user.3@example.com", "us***@example.com"),
    ("PII_NAME", "User Number 3", "Us***"),
    ("PII_HASH", "User Number 3", hashlib.sha256(b"User Number 3").hexdigest()),
])
def test_masking_policy_bodies_mask_for_an_unprivileged_role(built, policy, value, masked):
    create = next(s for s in built.governance_statements()
                  if s.startswith(f"create masking policy if not exists ANALYTICS.GOVERNANCE.{policy} "))
    body = create.split(" returns varchar -> ", 1)[1]
    assert "current_role() in ('DATA_SCIENTIST', 'TRANSFORMER') then val" in body
    assert built.query(f"select {body} as shown from (select '{value}' as val)") == [{"shown": masked}]


PII_LOOKING = re.compile(r"(^|_)(e?mail|name|phone|mobile|address|street|postal|zip|birth|dob|ssn|ip|passport)(_|$)")


def test_every_pii_looking_column_built_is_marked_in_the_yml(built):
    nodes = {(node["schema"].upper(), node["alias"].upper()): node for node in model_nodes(built.manifest)}
    columns = built.query("select table_schema, table_name, column_name from ANALYTICS.information_schema.columns")
    looking = [(c["table_schema"].upper(), c["table_name"].upper(), c["column_name"].lower()) for c in columns
               if (c["table_schema"].upper(), c["table_name"].upper()) in nodes
               and PII_LOOKING.search(c["column_name"].lower())]
    found = {(table, column) for _, table, column in looking}
    assert found >= {("STG_USERS__USERS", "email"), ("SNAP_USERS", "full_name")}

    def marked(schema: str, table: str, column: str) -> bool:
        entry = nodes[(schema, table)]["columns"].get(column, {})
        meta = {**entry.get("meta", {}), **entry.get("config", {}).get("meta", {})}
        return meta.get("pii") in (True, False)

    unmarked = [f"{table}.{column}" for schema, table, column in looking if not marked(schema, table, column)]
    assert unmarked == [], "mark these columns in the yml: config: {meta: {pii: true, masking_policy: ...}} " \
                           "or {pii: false} with a description saying why"


def test_grants_give_marts_to_the_reporter_and_finance_to_the_finance_analyst_only(built):
    grants = {s for s in built.governance_statements() if s.startswith("grant ")}
    marts, finance_marts = "ANALYTICS.ANALYTICS_marts", "ANALYTICS.ANALYTICS_finance"
    finance = {f"grant select on {finance_marts}.{m} to FINANCE_ANALYST"
               for m in ("fct_daily_revenue", "fct_monthly_revenue", "fct_hourly_revenue")}
    reporter = {f"grant select on {marts}.{m} to REPORTER" for m in (
        "fct_orders", "fct_transactions", "fct_customer_events", "fct_daily_customer_activity", "vw_customer_pii")}
    pii_readers = {f"grant select on {marts}.vw_customer_pii to DATA_SCIENTIST"}
    assert grants == finance | reporter | pii_readers


def test_search_optimization_on_the_big_fact_tables(built):
    optimized = [s for s in built.governance_statements() if "search optimization" in s]
    assert sorted(optimized) == [
        "alter table ANALYTICS.ANALYTICS_marts.fct_customer_events add search optimization on equality("
        "user_id, event_type, country_code)",
        "alter table ANALYTICS.ANALYTICS_marts.fct_transactions add search optimization on equality("
        "user_id, merchant_category, payment_method)",
    ]


def test_customer_activity_is_a_dynamic_table_and_fact_tables_are_clustered(built):
    run = built.work / "target" / "run"
    activity = next(run.rglob("fct_daily_customer_activity.sql")).read_text()
    assert "create dynamic table ANALYTICS.ANALYTICS_marts.fct_daily_customer_activity" in activity
    assert "target_lag = '1 hour'" in activity, activity
    for model, keys in (("fct_transactions", "transaction_date, user_id"),
                        ("fct_customer_events", "event_date, user_id, event_type")):
        ddl = next(run.rglob(f"{model}.sql")).read_text()
        assert f"cluster by ({keys})" in ddl, ddl
