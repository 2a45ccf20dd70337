"""Terraform's Snowflake roles and grants (infra/modules/snowflake) against what the dbt project does on
the prod target: every role dbt names exists, TRANSFORMER holds each privilege the project's config needs
(masking policies, search optimization, dynamic tables), and a schema's readers are never wider than the
roles dbt grants its models to. The dbt side comes from the parsed project (manifest), the Terraform side
from the module's variables and grants (HCL, without `terraform init`)."""
from __future__ import annotations

import json

import pytest
import yaml

from tests.infra.test_snowflake import DBT, dbt_vars, defaults, snowflake_resources
from tests.infra.test_terraform import SNOWFLAKE, load, unquote
from tests.unit.test_dbt_snowflake import snowflake_dbt

# Snowflake's own roles: they exist in every account.
SYSTEM_ROLES = {"ACCOUNTADMIN", "ORGADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN", "PUBLIC"}
# The privilege a schema needs to create what each materialization builds.
CREATE_PRIVILEGE = {"view": "CREATE VIEW", "table": "CREATE TABLE", "incremental": "CREATE TABLE",
                    "snapshot": "CREATE TABLE", "dynamic_table": "CREATE DYNAMIC TABLE"}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory) -> list[dict]:
    """The project's models and snapshots as dbt parses them for prod."""
    work = tmp_path_factory.mktemp("dbt_prod")
    run = snowflake_dbt(work, "parse", target="prod")
    assert run.returncode == 0, run.output[-3000:]
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return [node for node in manifest["nodes"].values() if node["resource_type"] in ("model", "snapshot")]


def grants_locals() -> dict:
    (found,) = [unquote(block) for block in load(SNOWFLAKE / "grants.tf")["locals"]]
    return found


def terraform_roles() -> dict[str, str]:
    """Role name by function key (var.roles)."""
    return defaults()["roles"]


def transformer_schema_privileges() -> dict[str, set[str]]:
    """TRANSFORMER's privileges by analytics schema: the builds in each, plus its schema's extras."""
    grants = grants_locals()
    assert "concat(local.transformer_builds, lookup(local.transformer_extras, schema, []))" in grants["schema_grants"]
    extras = grants["transformer_extras"]
    return {schema: set(grants["transformer_builds"]) | set(extras.get(schema, []))
            for schema in defaults()["analytics_schemas"]}


def schema_readers() -> dict[str, set[str]]:
    """The roles granted USAGE and future SELECT on each analytics schema, by name."""
    roles = terraform_roles()
    return {schema: {roles[key] for key in readers} for schema, readers in defaults()["analytics_schemas"].items()}


def is_pii(column: dict) -> bool:
    meta = {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}
    return meta.get("pii") is True


def test_every_role_dbt_names_is_one_terraform_creates(nodes):
    project = yaml.safe_load((DBT / "dbt_project.yml").read_text())
    vars_ = dbt_vars()
    named = {vars_["transformer_role"], vars_["finance_role"], *vars_["pii_privileged_roles"]}

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "+grants":
                    named.update(role for grantees in value.values() for role in grantees)
                walk(value)

    walk(project["models"])
    walk(project.get("snapshots", {}))
    named.update(role for node in nodes for grantees in node["config"]["grants"].values() for role in grantees)
    assert {"TRANSFORMER", "REPORTER", "FINANCE_ANALYST"} <= named
    unknown = {role.upper() for role in named} - set(terraform_roles().values()) - SYSTEM_ROLES
    assert unknown == set(), "dbt names roles Terraform never creates (a GRANT to them fails on Snowflake)"


def test_the_transformer_may_do_what_the_dbt_config_does(nodes):
    privileges = transformer_schema_privileges()
    needed: dict[str, set[str]] = {}
    for node in nodes:
        schema = node["schema"].upper()
        needed.setdefault(schema, set()).update({"USAGE", CREATE_PRIVILEGE[node["config"]["materialized"]]})
        if (node["config"].get("meta") or {}).get("search_optimization_equality"):
            needed[schema].add("ADD SEARCH OPTIMIZATION")
    assert {"CREATE DYNAMIC TABLE", "ADD SEARCH OPTIMIZATION"} <= needed["MARTS"]
    missing = {schema: sorted(wanted - privileges.get(schema, set())) for schema, wanted in needed.items()}
    assert {schema: wanted for schema, wanted in missing.items() if wanted} == {}


def test_the_transformer_may_create_and_apply_the_masking_policies(nodes):
    assert any(is_pii(column) for node in nodes for column in node["columns"].values())
    governance = dbt_vars()["governance_schema"]
    assert defaults()["governance_schema"] == governance
    schema = snowflake_resources()["snowflake_schema"]["governance"]
    assert (schema["database"], schema["name"]) == ("${snowflake_database.analytics.name}", "${var.governance_schema}")
    grants = grants_locals()
    assert grants["governance_grants"] == ["USAGE", "CREATE MASKING POLICY"]
    assert '"transformer/${var.governance_schema}"' in grants["schema_grants"]
    assert "snowflake_schema.governance.fully_qualified_name" in grants["schema_grants"]
    # Setting a policy on a column takes APPLY MASKING POLICY on the account; creating one only the governance schema.
    account = snowflake_resources()["snowflake_grant_privileges_to_account_role"]["transformer_on_account"]
    assert (account["account_role_name"], account["privileges"], account["on_account"]) == (
        "${local.roles.transformer}", ["APPLY MASKING POLICY"], True)
    assert all("CREATE MASKING POLICY" not in wanted for wanted in transformer_schema_privileges().values())


def test_terraform_lets_no_role_read_a_schema_whose_models_dbt_grants_to_others(nodes):
    readers = schema_readers()
    for node in nodes:
        granted = {role.upper() for role in node["config"]["grants"].get("select", [])}
        if granted:
            schema = node["schema"].upper()
            assert readers[schema] <= granted, f"{node['name']}: {schema} is read by {sorted(readers[schema])}"
    finance = {node["schema"].upper() for node in nodes if node["fqn"][1:3] == ["marts", "finance"]}
    assert len(finance) == 1
    assert readers[finance.pop()] == {dbt_vars()["finance_role"]}


def test_readers_follow_new_dynamic_tables():
    assert "DYNAMIC TABLES" in grants_locals()["readable_kinds"]
