"""The dbt project on the local target: DuckDB over the lake's Delta tables, written here by Spark.

Every model builds and every dbt test passes; the revenue marts equal an independent recomputation in plain
Python from the silver rows; a second build changes nothing; an incremental build after late changes (late
refund, late order, a new month, a changed user) still equals the recomputation, growth included.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from lakehouse.demo.warehouse import build_warehouse
from lakehouse.warehouse.dbt_runner import DbtRun, run_dbt
from tests.conftest import local_config
from tests.integration.revenue_recomputation import (
    assert_marts_equal,
    expected_daily_revenue,
    expected_monthly_revenue,
)
from tests.integration.silver_sample import (
    SilverRows,
    generate_silver_rows,
    late_changes,
    month_start,
    write_silver_tables,
)

pytestmark = pytest.mark.slow

MODELS = {
    "stg_events__user_events", "stg_transactions__transactions", "stg_users__users", "stg_orders__orders",
    "stg_salesforce__accounts", "int_customer_lifetime_value", "fct_orders", "fct_transactions",
    "fct_customer_events", "fct_daily_revenue", "fct_monthly_revenue", "fct_hourly_revenue",
    "fct_daily_customer_activity", "vw_customer_pii", "snap_users",
}


@dataclass
class SilverLake:
    root: Path
    rows: SilverRows


@pytest.fixture(scope="session")
def silver_lake(spark, tmp_path_factory) -> SilverLake:
    """The five silver tables dbt reads, on the agreed contract, in a temporary lake.

    The one place to swap for the real jobs (streaming to silver, Postgres extract, files ingest) once they
    land: anything that leaves `<root>/silver/{user_events,transactions,users,orders,accounts}` will do.
    """
    root = tmp_path_factory.mktemp("dbt_lake") / "lake"
    now = datetime.now(timezone.utc).replace(microsecond=0)
    rows = generate_silver_rows(now.date(), now)
    write_silver_tables(spark, str(root), rows)
    return SilverLake(root, rows)


@dataclass
class Warehouse:
    """A local warehouse (DuckDB file) built by dbt from a lake, with its own dbt target/ and logs/."""

    lake_root: Path
    folder: Path
    as_of: date  # the day recency is measured from (dbt's as_of_date): the sample's, not the clock's
    builds: list[DbtRun] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.folder / "lakehouse.duckdb"

    def dbt(self, *args: str) -> DbtRun:
        cfg = local_config(f"lake.root={self.lake_root}")
        return run_dbt(cfg, list(args), dbt_vars={"as_of_date": self.as_of.isoformat()}, duckdb_path=str(self.path),
                       work_dir=str(self.folder))

    def query(self, sql: str, role: str | None = None) -> list[dict]:
        import duckdb

        with duckdb.connect(str(self.path), read_only=True) as connection:
            if role:
                connection.execute(f"set variable lakehouse_role = '{role}'")
            relation = connection.sql(sql)
            return [dict(zip(relation.columns, row)) for row in relation.fetchall()]

    def manifest(self) -> dict:
        return json.loads((self.folder / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def warehouse(silver_lake, tmp_path_factory) -> Warehouse:
    built = Warehouse(silver_lake.root, tmp_path_factory.mktemp("dbt_warehouse"), silver_lake.rows.today)
    built.builds.append(built.dbt("build"))
    return built


def silver_orders(lake_root: Path) -> list[dict]:
    """The orders dbt read, straight from the Delta table."""
    from deltalake import DeltaTable

    return DeltaTable(str(lake_root / "silver" / "orders")).to_pyarrow_table().to_pylist()


def assert_passed(run: DbtRun) -> None:
    assert run.returncode == 0, run.output[-5000:]
    assert run.failures == {}


def mart_rows(warehouse: Warehouse) -> dict[str, list[dict]]:
    return {
        "daily": warehouse.query("select * from finance.fct_daily_revenue order by revenue_date"),
        "monthly": warehouse.query("select * exclude (last_order_updated_at) from finance.fct_monthly_revenue "
                                   "order by revenue_month"),
        "events": warehouse.query("select count(*) as n, count(distinct event_id) as ids "
                                  "from marts.fct_customer_events"),
        "clv": warehouse.query("select * from intermediate.int_customer_lifetime_value order by customer_id"),
    }


# ---- tests ----

def test_build_creates_every_model_and_passes_every_test(warehouse):
    build = warehouse.builds[0]
    assert_passed(build)
    nodes = warehouse.manifest()["nodes"]
    expected = {uid for uid, node in nodes.items() if node["resource_type"] in ("model", "snapshot", "test")}
    expected |= set(warehouse.manifest()["unit_tests"])
    hooks = {uid for uid in build.statuses if uid.startswith("operation.")}
    assert hooks == {"operation.lakehouse.lakehouse-on-run-start-0"}, "creates the masking policies on Snowflake"
    assert set(build.statuses) - hooks == expected
    assert "governance:" not in build.output, "no grants, masking policies or search optimization on DuckDB"
    assert {uid.split(".")[-1] for uid in expected if uid.startswith(("model.", "snapshot."))} == MODELS
    assert len([uid for uid in expected if uid.startswith("unit_test.")]) == 3


def test_daily_revenue_equals_an_independent_recomputation(warehouse, silver_lake):
    expected = expected_daily_revenue(silver_orders(silver_lake.root))
    assert_marts_equal(warehouse.query("select * from finance.fct_daily_revenue"), expected, "revenue_date")


def test_monthly_revenue_equals_an_independent_recomputation(warehouse, silver_lake):
    expected = expected_monthly_revenue(silver_orders(silver_lake.root))
    assert_marts_equal(warehouse.query("select * from finance.fct_monthly_revenue"), expected, "revenue_month")
    growths = [m["revenue_growth_pct"] for m in expected.values()]
    assert growths.count(None) == 2, "the first month and the month after the gap have no growth"


def test_lifetime_value_of_edge_customers(warehouse, silver_lake):
    clv = {row["customer_id"]: row for row in warehouse.query("select * from intermediate.int_customer_lifetime_value")}
    single = clv[1]   # one completed order of 19.99, three to four months ago
    assert (single["total_orders"], single["estimated_clv"], single["customer_segment"]) == (1, Decimal("4.00"), "New")
    assert 2 not in clv, "a customer with only a pending order has no lifetime value"
    assert {row["customer_segment"] for row in clv.values()} <= {"VIP", "Active", "At Risk", "Churned", "New"}


def test_staging_standardises_country_codes(warehouse):
    users = {row["user_id"]: row["country_code"] for row in warehouse.query(
        "select user_id, country_code from staging.stg_users__users")}
    # COUNTRIES in silver_sample, by user_id % 12: usa, United States, uk, Great Britain, de, Deutschland,
    # France, " ca ", nl, Atlantis, None, US.
    assert [users[i] for i in range(1, 13)] == ["US", "US", "GB", "GB", "DE", "DE", "FR", "CA", "NL", None, None, "US"]


def test_pii_view_masks_email_and_name_unless_the_role_is_privileged(warehouse):
    sql = "select user_id, email, full_name from marts.vw_customer_pii where user_id in (1, 2, 3) order by user_id"
    assert warehouse.query(sql) == [
        {"user_id": 1, "email": "a***@x.io", "full_name": "J***"},
        {"user_id": 2, "email": None, "full_name": None},
        {"user_id": 3, "email": "us***@example.com", "full_name": "Us***"},
    ]
    assert warehouse.query(sql, role="data_scientist")[2] == {
        "user_id": 3, "email": "user.3@example.com", "full_name": "User Number 3"}
    assert warehouse.query(sql, role="analyst")[2]["email"] == "us***@example.com"
    assert warehouse.query(sql, role="admin")[2]["email"] == "us***@example.com"   # not a role Terraform creates


def test_sources_are_fresh(warehouse):
    freshness = warehouse.dbt("source", "freshness")
    assert freshness.returncode == 0, freshness.output[-3000:]
    assert len(freshness.statuses) == 5
    assert set(freshness.statuses.values()) == {"pass"}


def test_second_build_changes_nothing(warehouse):
    before = mart_rows(warehouse)
    second = warehouse.dbt("build")
    assert_passed(second)
    assert mart_rows(warehouse) == before


def test_incremental_build_after_late_changes_equals_the_recomputation(warehouse, silver_lake, spark, tmp_path):
    # A copy of the lake and of the built warehouse, so the other tests keep theirs.
    lake = tmp_path / "lake"
    shutil.copytree(silver_lake.root, lake)
    later = Warehouse(lake, tmp_path / "warehouse", warehouse.as_of)
    later.folder.mkdir()
    shutil.copy(warehouse.path, later.path)
    before = {row["revenue_month"]: row for row in later.query("select * from finance.fct_monthly_revenue")}
    now = datetime.now(timezone.utc).replace(microsecond=0)
    write_silver_tables(spark, str(lake), late_changes(silver_lake.rows, now), tables=["orders", "users"])

    build = later.dbt("build")

    assert_passed(build)
    orders = silver_orders(lake)
    monthly = later.query("select * from finance.fct_monthly_revenue")
    assert_marts_equal(monthly, expected_monthly_revenue(orders), "revenue_month")
    assert_marts_equal(later.query("select * from finance.fct_daily_revenue"), expected_daily_revenue(orders),
                       "revenue_date")
    today = silver_lake.rows.today
    after = {row["revenue_month"]: row for row in monthly}
    assert month_start(today) not in before, "the current month is new in this build"
    assert after[month_start(today)]["revenue_growth_pct"] is not None
    refund_month, late_month = month_start(today, 2), month_start(today, 1)
    assert after[refund_month]["refunded_orders"] == before[refund_month]["refunded_orders"] + 1
    assert after[late_month]["completed_orders"] == before[late_month]["completed_orders"] + 1
    assert after[refund_month]["revenue_growth_pct"] is not None, "growth of the first rebuilt month"
    versions = later.query("select email, dbt_valid_to from snapshots.snap_users where user_id = 2 "
                           "order by dbt_valid_from")
    assert [v["email"] for v in versions] == [None, "new.address@example.org"]
    assert versions[0]["dbt_valid_to"] is not None
    assert versions[1]["dbt_valid_to"] is None


def test_demo_step_builds_the_warehouse_and_shows_mart_rows(silver_lake, tmp_path):
    lake = tmp_path / "lake"
    shutil.copytree(silver_lake.root, lake)
    shutil.rmtree(lake / "silver" / "accounts")
    state: dict = {}

    outcome = build_warehouse(local_config(f"lake.root={lake}"), state)

    assert "skipped the models on silver.accounts" in outcome
    assert "fct_monthly_revenue:" in outcome
    assert "revenue_month=" in outcome
    assert state["dbt_nodes_passed"] > 50
    assert (tmp_path / "warehouse" / "lakehouse.duckdb").is_file()
