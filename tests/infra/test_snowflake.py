"""infra/modules/snowflake without a Snowflake account or `terraform init` (the providers cannot be
downloaded here, so `terraform validate` and `plan` cannot run): the HCL is read with python-hcl2 and
checked against the platform design (warehouses, retention, roles) and against what dbt and the config
name (databases, schemas, stage, roles, the lake root), and the AWS role Snowflake assumes is checked
for least privilege and a trust limited to the storage integration."""
from __future__ import annotations

import re

import pytest
import yaml

from lakehouse.config import load_config
from tests.conftest import CONF_DIR, PROJECT_ROOT
from tests.infra.test_terraform import ENVS, INFRA, SNOWFLAKE, load, module_calls, tfvars, unquote, variables

DBT = PROJECT_ROOT / "dbt"
# The design (shared seed): size, clusters, scaling policy of each warehouse in prod.
DESIGN_WAREHOUSES = {
    "DBT_TRANSFORM_WH": ("X-LARGE", 1, 4, "STANDARD"),
    "ANALYTICS_WH": ("LARGE", 1, 8, "ECONOMY"),
    "DATA_SCIENCE_WH": ("2X-LARGE", 1, 2, "STANDARD"),
}


def snowflake_resources() -> dict[str, dict[str, dict]]:
    found: dict[str, dict[str, dict]] = {}
    for path in SNOWFLAKE.glob("*.tf"):
        for block in load(path).get("resource", []):
            for rtype, named in unquote(block).items():
                found.setdefault(rtype, {}).update(named)
    return found


def defaults() -> dict:
    return {name: body.get("default") for name, body in variables(SNOWFLAKE).items()}


def statements(document: str) -> dict[str, dict]:
    for path in SNOWFLAKE.glob("*.tf"):
        for block in load(path).get("data", []):
            docs = unquote(block).get("aws_iam_policy_document", {})
            if document in docs:
                return {s.get("sid", str(i)): s for i, s in enumerate(docs[document]["statement"])}
    raise AssertionError(f"no aws_iam_policy_document {document}")


def dbt_vars() -> dict:
    return yaml.safe_load((DBT / "dbt_project.yml").read_text())["vars"]


def dbt_custom_schemas() -> set[str]:
    project = yaml.safe_load((DBT / "dbt_project.yml").read_text())
    found = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "+schema":
                    found.add(value)
                walk(value)

    walk(project["models"])
    walk(project["snapshots"])
    return found


def test_the_root_wires_the_snowflake_module_with_the_snowflake_provider():
    main = load(INFRA / "main.tf")
    providers = unquote(main["terraform"][0]["required_providers"][0])
    assert providers["snowflake"]["source"] == "snowflakedb/snowflake"
    (provider,) = [unquote(block)["snowflake"] for block in main["provider"] if "snowflake" in unquote(block)]
    assert provider["authenticator"] == "SNOWFLAKE_JWT"   # key pair from the environment, never a password here
    assert "password" not in provider
    call = module_calls()["snowflake"]
    assert call["lake_kms_key_arn"] == "${module.lakehouse.kms_key_arn}"
    assert call["lake_bucket_name"] == "${module.lakehouse.lake_bucket}"


def test_warehouses_suspend_after_60_seconds_resume_and_each_has_a_resource_monitor():
    found = snowflake_resources()
    warehouse = found["snowflake_warehouse"]["this"]
    assert defaults()["auto_suspend_seconds"] == 60
    assert warehouse["auto_suspend"] == "${var.auto_suspend_seconds}"
    assert warehouse["auto_resume"] == "true"
    assert warehouse["resource_monitor"] == "${snowflake_resource_monitor.warehouse[each.key].fully_qualified_name}"
    monitor = found["snowflake_resource_monitor"]["warehouse"]
    assert monitor["for_each"] == warehouse["for_each"] == "${var.warehouses}"
    assert max(defaults()["monitor_notify_triggers"]) < defaults()["monitor_suspend_trigger"] <= 100
    assert defaults()["monitor_suspend_trigger"] < defaults()["monitor_suspend_immediate_trigger"]


@pytest.mark.parametrize("env", ENVS)
def test_each_environment_has_the_designs_three_warehouses_with_a_credit_quota(env):
    warehouses = tfvars(env)["snowflake_warehouses"]
    assert sorted(warehouses) == sorted(DESIGN_WAREHOUSES)
    for name, spec in warehouses.items():
        assert spec["credit_quota"] > 0, name
        assert 1 <= spec["min_cluster_count"] <= spec["max_cluster_count"], name
    # dbt's profiles run on DBT_TRANSFORM_WH
    assert "env_var('SNOWFLAKE_WAREHOUSE', 'DBT_TRANSFORM_WH')" in (DBT / "profiles.yml").read_text()


def test_prod_warehouses_are_the_designs_sizes_and_multi_cluster_settings():
    warehouses = tfvars("prod")["snowflake_warehouses"]
    actual = {name: (spec["size"], spec["min_cluster_count"], spec["max_cluster_count"], spec["scaling_policy"])
              for name, spec in warehouses.items()}
    assert actual == DESIGN_WAREHOUSES


@pytest.mark.parametrize("env", ENVS)
def test_databases_have_their_retention_and_dbt_builds_into_the_analytics_one(env):
    values = tfvars(env)
    databases = snowflake_resources()["snowflake_database"]
    assert databases["raw"]["data_retention_time_in_days"] == "${var.raw_retention_days}"
    assert databases["analytics"]["data_retention_time_in_days"] == "${var.analytics_retention_days}"
    if env == "prod":   # the design
        assert (values["snowflake_raw_retention_days"], values["snowflake_analytics_retention_days"]) == (90, 365)
    target = yaml.safe_load((DBT / "profiles.yml").read_text())["lakehouse"]["outputs"][env]
    default = re.fullmatch(r"\{\{ env_var\('SNOWFLAKE_DATABASE', '([A-Z_]+)'\) \}\}", target["database"]).group(1)
    assert values["snowflake_analytics_database"] == default
    assert values.get("snowflake_transformer_creates_schemas", False) is (env == "dev")  # dev: DBT_<USER>_* schemas


def test_the_schemas_are_the_ones_dbt_builds_into_and_reads_from():
    assert sorted(defaults()["analytics_schemas"]) == sorted(schema.upper() for schema in dbt_custom_schemas())
    sources = yaml.safe_load((DBT / "models" / "staging" / "_sources.yml").read_text())["sources"]
    source_schemas = {source["schema"].upper() for source in sources}
    vars_ = dbt_vars()
    assert set(defaults()["raw_schemas"]) == source_schemas | {vars_["lake_stage_schema"]}


def test_terraform_creates_the_stage_and_integration_dbt_names():
    vars_ = dbt_vars()
    values = defaults()
    assert values["raw_database"] == vars_["raw_database"]
    assert (values["stage_schema"], values["stage_name"]) == (vars_["lake_stage_schema"], vars_["lake_stage"])
    found = snowflake_resources()
    stage = found["snowflake_stage"]["lake"]
    assert stage["storage_integration"] == "${snowflake_storage_integration.lake.name}"
    assert stage["url"] == "${local.lake_url}"
    integration = found["snowflake_storage_integration"]["lake"]
    assert integration["storage_allowed_locations"] == ["${local.lake_url}"]
    assert integration["storage_aws_role_arn"] == "${local.snowflake_lake_role_arn}"
    assert found["aws_iam_role"]["snowflake_lake"]["name"] == "${local.snowflake_lake_role_name}"


@pytest.mark.parametrize("env", ENVS)
def test_the_stage_is_the_lake_root_of_the_environments_config(env):
    cfg = load_config(env, CONF_DIR, environ={})
    (local_block,) = [unquote(b) for b in load(SNOWFLAKE / "lake_stage.tf")["locals"]]
    url = local_block["lake_url"].replace("${var.lake_bucket_name}", tfvars(env)["lake_bucket_name"])
    url = url.replace("${var.lake_prefix}", variables(INFRA)["lake_prefix"]["default"])
    assert url == re.sub(r"^s3a://", "s3://", cfg.lake.root).rstrip("/") + "/"


def test_only_the_integrations_snowflake_user_with_its_external_id_may_assume_the_lake_role():
    (trust,) = statements("snowflake_trust").values()
    assert trust["actions"] == ["sts:AssumeRole"]
    assert trust["principals"] == [{"__is_block__": True, "type": "AWS", "identifiers": [
        "${snowflake_storage_integration.lake.storage_aws_iam_user_arn}"]}]
    (condition,) = trust["condition"]
    assert (condition["test"], condition["variable"]) == ("StringEquals", "sts:ExternalId")
    assert condition["values"] == ["${snowflake_storage_integration.lake.storage_aws_external_id}"]


def test_snowflake_reads_only_silver_and_may_only_decrypt_with_the_lake_key():
    policy = statements("snowflake_lake")
    actions = {a for statement in policy.values() for a in statement["actions"]}
    assert actions == {"s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt"}
    assert defaults()["lake_read_prefixes"] == ["silver"]
    assert policy["ReadTheReadPrefixes"]["resources"] == (
        '${[for folder in var.lake_read_prefixes : "${local.lake_bucket_arn}/${var.lake_prefix}/${folder}/*"]}')
    assert [c["variable"] for c in policy["ListTheReadPrefixes"]["condition"]] == ["s3:prefix"]
    assert policy["DecryptTheLake"]["resources"] == ["${var.lake_kms_key_arn}"]


def test_the_role_hierarchy_and_the_roles_dbt_names():
    roles = defaults()["roles"]
    vars_ = dbt_vars()
    assert roles["finance_analyst"] == vars_["finance_role"]
    assert roles["pii_reader"] in vars_["pii_privileged_roles"]
    assert "env_var('SNOWFLAKE_ROLE', 'TRANSFORMER')" in (DBT / "profiles.yml").read_text()
    assert roles["transformer"] == "TRANSFORMER"
    found = snowflake_resources()
    inherits = found["snowflake_grant_account_role"]["reporter_to"]
    assert (inherits["role_name"], inherits["for_each"]) == ("${local.roles.reporter}",
                                                            '${toset(["finance_analyst", "pii_reader"])}')
    assert found["snowflake_grant_account_role"]["to_sysadmin"]["parent_role_name"] == "SYSADMIN"


def test_future_grants_let_readers_follow_new_tables_and_only_the_pii_reader_sees_staging_and_snapshots():
    (grants,) = [unquote(b) for b in load(SNOWFLAKE / "grants.tf")["locals"]]
    readers = defaults()["analytics_schemas"]
    assert {schema for schema, roles in readers.items() if "pii_reader" in roles} == {
        "STAGING", "INTERMEDIATE", "SNAPSHOTS"}
    assert readers["MARTS"] == ["reporter"]
    assert grants["analytics_reads"] == (
        "${flatten([for schema, readers in var.analytics_schemas : [for role in readers : "
        "{role = role, schema = schema}]])}")
    future = grants["future_reads"]
    assert '"${pair[0].role}/${pair[0].schema}/${pair[1]}"' in future
    assert "setproduct(local.analytics_reads, local.readable_kinds)" in future
    assert re.findall(r'role = "([a-z_]+)"', future) == ["transformer"]
    resource = snowflake_resources()["snowflake_grant_privileges_to_account_role"]["future_reads"]
    assert resource["privileges"] == ["SELECT"]
    assert resource["on_schema_object"][0]["future"][0]["in_schema"] == "${each.value.schema}"
    # dbt (TRANSFORMER) never creates schemas in prod
    assert grants["database_grants"]["transformer/analytics"]["privileges"] == (
        '${var.transformer_creates_schemas ? ["USAGE", "CREATE SCHEMA"] : ["USAGE"]}')
