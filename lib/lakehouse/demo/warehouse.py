"""The demo's warehouse step: `dbt build` on the local target over the lake, then a few mart rows."""
from __future__ import annotations

from pathlib import Path

from lakehouse.config import Config
from lakehouse.warehouse.dbt_runner import SILVER_SOURCES, local_warehouse_path, missing_silver_tables, run_dbt

# (schema, mart) -> the query of its rows shown; the finance marts have a schema of their own.
SHOWN_MARTS = {
    ("finance", "fct_monthly_revenue"): "select revenue_month, net_revenue, revenue_growth_pct, completed_orders, "
                                        "new_customers from finance.fct_monthly_revenue "
                                        "order by revenue_month desc limit 3",
    ("marts", "fct_daily_customer_activity"): "select activity_date, user_id, total_events, session_count "
                                              "from marts.fct_daily_customer_activity "
                                              "order by activity_date desc, total_events desc, user_id limit 3",
}


def build_warehouse(cfg: Config, state: dict) -> str:
    """Builds and tests every model whose silver tables exist; says which ones it had to skip.

    With no silver table at all (the ingestion steps did not run) it builds nothing and says so.
    """
    missing = missing_silver_tables(cfg)
    if len(missing) == len(SILVER_SOURCES):
        return f"skipped: no silver tables under {cfg.lake.root}/silver yet (the ingestion steps write them)"
    args = ["build"]
    for table in missing:
        args += ["--exclude", f"source:{SILVER_SOURCES[table]}+"]
    warehouse = local_warehouse_path(cfg)
    run = run_dbt(cfg, args, work_dir=str(warehouse.parent / "dbt")).check()
    state["dbt_nodes_passed"] = len(run.statuses)
    lines = [f"dbt build: {len(run.statuses)} models, snapshots and tests passed, into {warehouse}"]
    if missing:
        lines.append(f"skipped the models on {', '.join('silver.' + t for t in missing)} (not written yet)")
    for mart, rows in mart_samples(warehouse).items():
        lines.append(f"{mart}:")
        lines += ["  " + "  ".join(f"{column}={value}" for column, value in row.items()) for row in rows]
    return "\n      ".join(lines)


def mart_samples(warehouse: Path) -> dict[str, list[dict]]:
    """A few rows of each shown mart that exists in the local warehouse, as column -> value."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        built = set(connection.sql("select table_schema, table_name from information_schema.tables").fetchall())
        samples = {}
        for (schema, mart), query in SHOWN_MARTS.items():
            if (schema, mart) in built:
                relation = connection.sql(query)
                samples[mart] = [dict(zip(relation.columns, row)) for row in relation.fetchall()]
        return samples
