"""infra/ without terraform (not installed here): every file parses as HCL, variables are declared and
set, and the names conf/<env>.yaml points at (buckets, prefixes, roles, secrets, Kafka) are the
ones the environment's tfvars create."""
from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

from lakehouse.config import load_config
from tests.conftest import CONF_DIR, PROJECT_ROOT

INFRA = PROJECT_ROOT / "infra"
MODULE = INFRA / "modules" / "lakehouse"
HCL_FILES = sorted([*INFRA.rglob("*.tf"), *INFRA.glob("envs/*.tfvars"), *INFRA.glob("envs/*.hcl")])
ENVS = ("dev", "prod")


def load(path: Path) -> dict:
    with path.open() as handle:
        return hcl2.load(handle)


def unquote(value):
    """python-hcl2 keeps string literals quoted; strip them, recursively."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if k != "__comments__"}
    return value


def variables(folder: Path) -> dict[str, dict]:
    declared = {}
    for path in folder.glob("*.tf"):
        for block in load(path).get("variable", []):
            declared.update(unquote(block))
    return declared


def required(declared: dict[str, dict]) -> set[str]:
    return {name for name, body in declared.items() if "default" not in body}


def tfvars(env: str) -> dict:
    return unquote(load(INFRA / "envs" / f"{env}.tfvars"))


def resources(folder: Path) -> dict[str, dict[str, dict]]:
    """resource type -> name -> body, over every .tf file of `folder`."""
    found: dict[str, dict[str, dict]] = {}
    for path in folder.glob("*.tf"):
        for block in load(path).get("resource", []):
            for rtype, named in unquote(block).items():
                found.setdefault(rtype, {}).update(named)
    return found


def policy_statements(name: str) -> dict[str, dict]:
    for path in MODULE.glob("*.tf"):
        for block in load(path).get("data", []):
            docs = unquote(block).get("aws_iam_policy_document", {})
            if name in docs:
                return {statement.get("sid", str(i)): statement for i, statement in enumerate(docs[name]["statement"])}
    raise AssertionError(f"no aws_iam_policy_document {name}")


@pytest.mark.parametrize("path", HCL_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_terraform_file_parses(path):
    assert load(path)


def test_the_infra_has_what_the_platform_needs():
    found = resources(MODULE)
    for rtype in ("aws_s3_bucket", "aws_s3_bucket_server_side_encryption_configuration",
                  "aws_s3_bucket_public_access_block", "aws_s3_bucket_versioning", "aws_s3_bucket_policy",
                  "aws_s3_bucket_lifecycle_configuration", "aws_iam_role", "aws_iam_instance_profile",
                  "aws_security_group", "aws_msk_configuration", "aws_msk_cluster", "aws_kms_key",
                  "aws_secretsmanager_secret"):
        assert rtype in found, rtype


@pytest.mark.parametrize("env", ENVS)
def test_tfvars_set_declared_variables_and_every_required_one(env):
    declared = variables(INFRA)
    values = tfvars(env)
    assert set(values) - set(declared) == set()
    assert required(declared) - set(values) == set()


def test_the_module_call_matches_the_module_variables_and_every_var_is_declared():
    (call,) = [unquote(block)["lakehouse"] for block in load(INFRA / "main.tf")["module"]]
    inputs = set(call) - {"source", "__is_block__"}
    module_vars = variables(MODULE)
    assert inputs - set(module_vars) == set()
    assert required(module_vars) - inputs == set()
    for folder, declared in ((INFRA, variables(INFRA)), (MODULE, module_vars)):
        used = {name for path in folder.glob("*.tf") for name in re.findall(r"\bvar\.([a-z0-9_]+)", path.read_text())}
        assert used - set(declared) == set(), folder


@pytest.mark.parametrize("env", ENVS)
def test_the_names_the_config_references_are_the_ones_terraform_creates(env):
    cfg = load_config(env, CONF_DIR, environ={})
    values = tfvars(env)
    bucket, artifacts = values["lake_bucket_name"], values["artifacts_bucket_name"]
    lake_prefix = variables(INFRA)["lake_prefix"]["default"]
    checkpoint_prefix = variables(INFRA)["checkpoint_prefix"]["default"]
    artifacts_prefix = variables(INFRA)["artifacts_prefix"]["default"]

    assert cfg.lake.root == f"s3://{bucket}/{lake_prefix}"
    assert cfg.lake.checkpoint_root == f"s3://{bucket}/{checkpoint_prefix}"
    assert cfg.emr.artifacts_uri == f"s3://{artifacts}/{artifacts_prefix}/releases"
    assert cfg.emr.log_uri == f"s3://{artifacts}/{artifacts_prefix}/emr-logs/"
    for jar in cfg.spark.extra_jars:
        assert jar.startswith(f"s3://{artifacts}/{artifacts_prefix}/jars/"), jar
    assert cfg.emr.cluster.service_role == values["emr_service_role_name"]
    assert cfg.emr.cluster.instance_profile == values["emr_instance_profile_name"]
    assert cfg.s3.region == values["region"]

    secrets = {ref.name.partition("#")[0] for ref in (cfg.postgres.password, cfg.s3.access_key, cfg.s3.secret_key)
               if ref is not None and ref.scheme == "secretsmanager"}
    assert secrets
    assert secrets <= set(values["secret_ids"])

    brokers = cfg.kafka.bootstrap_servers.split(",")
    assert len(brokers) == values["kafka_broker_count"]
    for number, broker in enumerate(brokers, 1):
        assert broker == f"b-{number}.{values['msk_cluster_name']}.kafka.{values['region']}.amazonaws.com:9094"
    assert cfg.kafka.security_protocol == "SSL"  # 9094: MSK's TLS listener
    for topic, settings in cfg.kafka.topics.items():
        assert settings.replication_factor == values["kafka_default_replication"], topic
        assert values["kafka_min_insync_replicas"] < settings.replication_factor, topic


def test_msk_never_creates_topics_on_first_use_and_speaks_tls_only():
    found = resources(MODULE)
    properties = found["aws_msk_configuration"]["this"]["server_properties"]
    assert "auto.create.topics.enable=false" in properties
    encryption = found["aws_msk_cluster"]["this"]["encryption_info"][0]["encryption_in_transit"][0]
    assert encryption["client_broker"] == "TLS"


def test_buckets_are_encrypted_private_versioned_and_tls_only():
    found = resources(MODULE)
    rule = found["aws_s3_bucket_server_side_encryption_configuration"]["this"]["rule"][0]
    assert rule["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    block = found["aws_s3_bucket_public_access_block"]["this"]
    assert all(block[key] is True for key in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                              "restrict_public_buckets"))
    assert found["aws_s3_bucket_versioning"]["this"]["versioning_configuration"][0]["status"] == "Enabled"
    deny = policy_statements("tls_only")["DenyInsecureTransport"]
    assert deny["effect"] == "Deny"
    assert deny["condition"][0]["values"] == ["false"]
    lake_rules = {r["id"]: r for r in found["aws_s3_bucket_lifecycle_configuration"]["lake"]["rule"]}
    assert set(lake_rules) == {"abort-incomplete-uploads", "expire-noncurrent", "raw-landing"}


def test_the_instance_role_reaches_only_the_lake_the_release_the_logs_and_the_secrets():
    statements = policy_statements("emr_instance")
    for sid, statement in statements.items():
        assert all(not action.endswith(":*") for action in statement["actions"]), sid
        assert "*" not in statement["resources"], sid
    writes = statements["ReadWriteTheLakeAndCheckpoints"]
    assert writes["resources"] == ["${local.lake_arn}/${var.lake_prefix}/*",
                                   "${local.lake_arn}/${var.checkpoint_prefix}/*"]
    assert statements["WriteClusterLogs"]["actions"] == ["s3:PutObject"]
    assert statements["ReadReleasesAndJars"]["actions"] == ["s3:GetObject", "s3:ListBucket"]
    assert statements["ReadTheConfiguredSecrets"]["resources"] == (
        "${[for secret in aws_secretsmanager_secret.this : secret.arn]}")


@pytest.mark.parametrize("env", ENVS)
def test_the_orchestrator_only_touches_clusters_tagged_with_its_environment(env):
    from lakehouse.orchestration.emr import job_flow_overrides

    statements = policy_statements("orchestrator")
    assert statements["CreateTaggedClusters"]["condition"][0]["variable"] == "aws:RequestTag/environment"
    assert statements["UseAndEndOwnClusters"]["condition"][0]["variable"] == "aws:ResourceTag/environment"
    request = job_flow_overrides(load_config(env, CONF_DIR, environ={}), "c", "s3://b/r")
    assert {"Key": "environment", "Value": tfvars(env)["environment"]} in request["Tags"]
