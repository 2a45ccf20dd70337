"""The README's commands work as written: every bash block marked `<!-- tested -->` runs, in order, from
the repository root in a shell without an activated virtualenv (nothing of it on PATH).

Only what would touch a developer's own state is moved aside, through the environment the tools honour:
the lake and checkpoints (LAKEHOUSE__LAKE__*, and `.local/lake` in the dbt line), the topics
(LAKEHOUSE__STREAMING__TOPICS__*), the Postgres database, and dbt's target folder. Account files are
landed first, as Airbyte would.
"""
from __future__ import annotations

import os
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, local_config, unique_name

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
MARKER = "<!-- tested -->"


def readme_blocks(readme: str) -> list[str]:
    """The bash blocks right after a MARKER line, dedented."""
    pattern = re.compile(re.escape(MARKER) + r"\n([ \t]*)```bash\n(.*?)\n[ \t]*```", re.DOTALL)
    return [textwrap.dedent(indent + body) for indent, body in pattern.findall(readme)]


def test_the_readme_marks_the_commands_of_each_part_as_tested():
    blocks = readme_blocks((PROJECT_ROOT / "README.md").read_text())
    commands = "\n".join(blocks)
    for tool in ("lakehouse-services up", "spark-submit", "lakehouse-produce",
                 "lakehouse-bronze --topics user_events --backfill-from", "lakehouse-silver",
                 "lakehouse-postgres-extract --tables orders --mode reconcile", "dbt build"):
        assert tool in commands, tool


@pytest.fixture
def isolated(tmp_path, kafka_service, postgres_service, s3_service) -> dict[str, str]:
    """The environment of a fresh shell, with this test's lake, topics, database and dbt folders."""
    from lakehouse.services.postgres import PostgresServer
    from lakehouse.sourcegen.salesforce_files import land_account_syncs

    local = local_config()
    database = unique_name("readme")
    with PostgresServer(local).admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{database}" OWNER "{local.postgres.user}"')
    lake = tmp_path / "lake"
    land_account_syncs(str(lake / "raw" / "salesforce" / "account"), syncs=1, accounts=5)
    venv_bin = str(Path(PROJECT_ROOT, ".venv", "bin"))
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("LAKEHOUSE", "PYSPARK", "VIRTUAL_ENV", "DBT_", "SPARK_HOME"))}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    env.update({
        "LAKEHOUSE__LAKE__ROOT": str(lake), "LAKEHOUSE__LAKE__CHECKPOINT_ROOT": str(tmp_path / "checkpoints"),
        "LAKEHOUSE__POSTGRES__DATABASE": database, "LAKEHOUSE__SPARK__DRIVER_MEMORY": "1g",
        "DBT_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"), "DBT_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
        **{f"LAKEHOUSE__STREAMING__TOPICS__{contract.upper()}": unique_name(contract)
           for contract in ("user_events", "transaction_events", "system_metrics")},
    })
    yield env
    with PostgresServer(local).admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    from confluent_kafka.admin import AdminClient

    from lakehouse.kafka.client import client_config

    admin = AdminClient(client_config(local))
    topics = [value for name, value in env.items() if name.startswith("LAKEHOUSE__STREAMING__TOPICS__")]
    existing = set(admin.list_topics(timeout=10).topics)
    for future in admin.delete_topics([t for t in topics if t in existing]).values():
        future.result(timeout=30)


def test_the_tested_blocks_run_as_written_without_an_activated_virtualenv(isolated, tmp_path):
    import duckdb
    from deltalake import DeltaTable

    lake = isolated["LAKEHOUSE__LAKE__ROOT"]
    blocks = readme_blocks((PROJECT_ROOT / "README.md").read_text())
    script = "\n".join(blocks).replace("$PWD/../.local/lake", lake).replace(".local/lake", lake)
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=PROJECT_ROOT, env=isolated,
                            capture_output=True, text=True, timeout=1100)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
    for table in ("user_events", "transactions", "users", "orders", "accounts"):
        assert DeltaTable(f"{lake}/silver/{table}").to_pyarrow_table().num_rows > 0, table
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as warehouse:
        marts = {name for (name,) in warehouse.execute("select table_name from information_schema.tables").fetchall()}
    assert {"fct_orders", "fct_daily_revenue", "fct_transactions"} <= marts
