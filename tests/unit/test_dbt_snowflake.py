"""The dbt project on the Snowflake targets, without an account: it parses for dev and prod, the
run-operation macros generate the external-table DDL (dry run: printed, not run) for the silver contract, and
every column the yml marks as personal data gets its masking policy."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from lakehouse.warehouse.dbt_runner import DbtRun, run_dbt
from tests.conftest import PROJECT_ROOT, local_config
from tests.integration.silver_sample import PARTITIONS, SCHEMAS

LAKE = "s3a://company-data-lake/lakehouse"
NO_ACCOUNT = {"SNOWFLAKE_ACCOUNT": "no-such-account", "SNOWFLAKE_USER": "nobody"}
# dbt source per silver table, and the Snowflake type of each contract (Spark) type in the external tables.
SOURCES = {"user_events": ("events", "kafka_streams"), "transactions": ("transactions", "kafka_streams"),
           "users": ("users", "batch_extracts"), "orders": ("orders", "batch_extracts"),
           "accounts": ("salesforce", "batch_extracts")}
SNOWFLAKE_TYPES = {"string": "varchar", "timestamp": "varchar", "date": "date", "int": "integer", "bigint": "bigint",
                   "boolean": "boolean", "array<string>": "array"}


def snowflake_dbt(tmp_path, *args: str, lake: str = LAKE, target: str = "dev") -> DbtRun:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in NO_ACCOUNT.items():
            patch.setenv(name, value)
        return run_dbt(local_config(f"lake.root={lake}"), list(args), target=target, work_dir=str(tmp_path),
                       duckdb_path=str(tmp_path / "local.duckdb"))


def contract_columns(table: str) -> list[tuple[str, str]]:
    """(name, Snowflake type) of each column of the silver contract, partition columns excluded."""
    columns = [part.split(" ", 1) for part in re.split(r",\s(?![^(]*\))", SCHEMAS[table])]
    return [(name, SNOWFLAKE_TYPES.get(kind, kind.replace("decimal", "number")))
            for name, kind in columns if name not in PARTITIONS.get(table, [])]


def statements(run: DbtRun) -> list[str]:
    """The statements a dry run logged: each starts after a log timestamp and ends with ';'."""
    text = re.sub(r"^\d\d:\d\d:\d\d\s+", "", run.output, flags=re.MULTILINE)
    return [s.strip() for s in re.findall(r"^((?:create|alter) .*?);$", text, flags=re.MULTILINE | re.DOTALL)]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """One dbt work folder for the module, so dbt parses the project once and then partially."""
    return tmp_path_factory.mktemp("dbt")


@pytest.fixture(scope="module")
def ddl(work) -> list[str]:
    run = snowflake_dbt(work, "run-operation", "create_lake_external_tables", "--args", "{dry_run: true}")
    assert run.returncode == 0, run.output[-3000:]
    return statements(run)


@pytest.fixture(scope="module")
def manifests(work) -> dict[str, dict]:
    """The project parsed for each Snowflake target: target -> manifest."""
    parsed = {}
    for target in ("dev", "prod"):
        run = snowflake_dbt(work, "parse", target=target)
        assert run.returncode == 0, run.output[-3000:]
        parsed[target] = json.loads((work / "target" / "manifest.json").read_text())
    return parsed


@pytest.mark.parametrize("target", ["dev", "prod"])
def test_project_parses_for_snowflake(manifests, target):
    assert manifests[target]["metadata"]["adapter_type"] == "snowflake"


def test_a_table_and_its_refresh_per_source_and_nothing_account_level(ddl):
    # The schemas, the stage and the storage integration are Terraform's (infra/modules/snowflake):
    # dbt runs as TRANSFORMER, which may create external tables and nothing above them.
    tables = [s.split()[5] for s in ddl if s.startswith("create or replace external table")]
    refreshes = [s.split()[3] for s in ddl if s.startswith("alter external table")]
    expected = sorted(f"RAW_DATA.{schema}.{table}" for table, (_, schema) in SOURCES.items())
    assert sorted(tables) == expected
    assert refreshes == tables
    assert len(ddl) == 2 * len(SOURCES)


def test_no_macro_creates_account_level_objects():
    macros = "\n".join(path.read_text() for path in (PROJECT_ROOT / "dbt" / "macros").rglob("*.sql")).lower()
    for statement in ("create storage integration", "create stage", "create schema", "create database",
                      "create role", "create warehouse"):
        assert statement not in macros, statement


@pytest.mark.parametrize("table", sorted(SOURCES))
def test_external_table_has_the_contract_columns_typed_from_parquet(ddl, table):
    _, schema = SOURCES[table]
    statement = next(s for s in ddl if s.startswith(f"create or replace external table RAW_DATA.{schema}.{table} ("))
    body, options = statement.split("\n)\n")
    columns = [line.strip().rstrip(",") for line in body.split("\n")[1:]]
    partition_columns = [c for c in columns if "metadata$filename" in c]
    value_columns = [c for c in columns if c not in partition_columns]
    assert value_columns == [f"{name} {kind} as (value:{name}::{kind})" for name, kind in contract_columns(table)]
    assert [c.split()[0] for c in partition_columns] == PARTITIONS.get(table, [])
    for name in PARTITIONS.get(table, []):
        assert f"{name} date as (to_date(split_part(split_part(metadata$filename, '{name}=', 2), '/', 1)))" in columns
    expected_options = [
        f"location = @RAW_DATA.LAKE.LAKE_STAGE/silver/{table}/",
        "file_format = (type = parquet)",
        "table_format = delta",
        "auto_refresh = false",
        "refresh_on_create = false",
    ]
    if table in PARTITIONS:
        expected_options.insert(0, f"partition by ({', '.join(PARTITIONS[table])})")
    assert options.split("\n") == expected_options


def test_refresh_operation_refreshes_every_external_table(work):
    run = snowflake_dbt(work, "run-operation", "refresh_lake_external_tables", "--args", "{dry_run: true}")
    assert run.returncode == 0, run.output[-3000:]
    assert sorted(statements(run)) == sorted(
        f"alter external table RAW_DATA.{schema}.{table} refresh" for table, (_, schema) in SOURCES.items())


def test_external_tables_are_only_created_on_snowflake(tmp_path):
    run = snowflake_dbt(tmp_path, "run-operation", "create_lake_external_tables", target="local")
    assert run.returncode != 0
    assert "the lake's external tables exist on Snowflake only" in run.output


def yml_pii_columns() -> dict[tuple[str, str], str]:
    """{(model or snapshot, column): masking policy} for every column the yml files mark `pii: true`,
    read from the files themselves rather than through dbt."""
    marked = {}
    for path in (Path(__file__).parents[2] / "dbt").glob("[ms]*s/**/*.yml"):
        document = yaml.safe_load(path.read_text()) or {}
        for node in document.get("models", []) + document.get("snapshots", []):
            for column in node.get("columns", []):
                meta = {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}
                if meta.get("pii") is True:
                    marked[(node["name"], column["name"])] = meta.get("masking_policy", "hash")
    return marked


def test_every_column_marked_pii_in_the_yml_gets_a_masking_policy(work):
    run = snowflake_dbt(work, "run-operation", "masking_policies_plan")
    assert run.returncode == 0, run.output[-3000:]
    applied = {}
    for statement in re.findall(r"governance: (alter (?:table|view) .*);$", run.output, flags=re.MULTILINE):
        match = re.fullmatch(r"alter (?:table|view) \S+\.(\w+) modify column (\w+) set masking policy "
                             r"ANALYTICS_DEV\.GOVERNANCE\.PII_(\w+) force", statement)
        assert match, statement
        applied[(match[1], match[2])] = match[3].lower()
    marked = yml_pii_columns()
    assert ("stg_users__users", "email") in marked
    assert ("snap_users", "full_name") in marked
    assert applied == marked


def test_every_model_and_snapshot_runs_the_masking_hook(manifests):
    nodes = manifests["dev"]["nodes"].values()
    built = [node for node in nodes if node["resource_type"] in ("model", "snapshot")]
    assert len(built) == 15
    for node in built:
        assert "{{ mask_pii_columns() }}" in [hook["sql"] for hook in node["config"]["post-hook"]], node["name"]
