"""infra/ without `terraform init` (the providers cannot be downloaded here): every file parses as
HCL and is `terraform fmt`-clean, variables are declared and set, the names conf/<env>.yaml points at
(buckets, prefixes, roles, secrets, Kafka, the Delta log table) are the ones the environment's tfvars
create, and the nodes' role may read exactly the artifacts the config points the jobs at."""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest

from lakehouse.config import load_config
from lakehouse.config.secrets import SecretRef
from tests.conftest import CONF_DIR, PROJECT_ROOT

INFRA = PROJECT_ROOT / "infra"
MODULE = INFRA / "modules" / "lakehouse"
SNOWFLAKE = INFRA / "modules" / "snowflake"
HCL_FILES = sorted([*INFRA.rglob("*.tf"), *INFRA.glob("envs/*.tfvars"), *INFRA.glob("envs/*.hcl")])
ENVS = ("dev", "prod")
CONF_ENVS = sorted(path.stem for path in CONF_DIR.glob("*.yaml") if path.stem != "base")
DELTA_LOG_STORE_ACTIONS = {"dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}


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


def s3_uris(value, key: str = ""):
    """(dotted config key, URI) of every s3:// or s3a:// string in a Config, walked recursively."""
    if isinstance(value, str):
        if re.match(r"s3a?://", value):
            yield key, value
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from s3_uris(getattr(value, field.name), f"{key}.{field.name}".lstrip("."))
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from s3_uris(item, f"{key}.{name}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from s3_uris(item, f"{key}[{index}]")


@pytest.mark.parametrize("path", HCL_FILES, ids=lambda p: str(p.relative_to(INFRA)))
def test_every_terraform_file_parses(path):
    assert load(path)


def test_the_infra_has_what_the_platform_needs():
    found = resources(MODULE)
    for rtype in ("aws_s3_bucket", "aws_s3_bucket_server_side_encryption_configuration",
                  "aws_s3_bucket_public_access_block", "aws_s3_bucket_versioning", "aws_s3_bucket_policy",
                  "aws_s3_bucket_lifecycle_configuration", "aws_iam_role", "aws_iam_instance_profile",
                  "aws_security_group", "aws_msk_configuration", "aws_msk_cluster", "aws_kms_key",
                  "aws_secretsmanager_secret", "aws_dynamodb_table"):
        assert rtype in found, rtype


@pytest.mark.parametrize("env", ENVS)
def test_tfvars_set_declared_variables_and_every_required_one(env):
    declared = variables(INFRA)
    values = tfvars(env)
    assert set(values) - set(declared) == set()
    assert required(declared) - set(values) == set()


def module_calls() -> dict[str, dict]:
    return {name: call for block in load(INFRA / "main.tf")["module"] for name, call in unquote(block).items()}


def test_the_module_calls_match_the_module_variables_and_every_var_is_declared():
    calls = module_calls()
    assert set(calls) == {"lakehouse", "snowflake"}
    for name, call in calls.items():
        folder = INFRA / call["source"]
        inputs = set(call) - {"source", "__is_block__"}
        module_vars = variables(folder)
        assert inputs - set(module_vars) == set(), name
        assert required(module_vars) - inputs == set(), name
    for folder in (INFRA, MODULE, SNOWFLAKE):
        used = {name for path in folder.glob("*.tf") for name in re.findall(r"\bvar\.([a-z0-9_]+)", path.read_text())}
        assert used - set(variables(folder)) == set(), folder


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

    secrets = {ref.name.partition("#")[0] for ref in secret_references(cfg) if ref.scheme == "secretsmanager"}
    assert {f"{env}/lakehouse/postgres", f"{env}/lakehouse/openlineage"} <= secrets
    assert secrets <= set(values["secret_ids"])

    brokers = cfg.kafka.bootstrap_servers.split(",")
    assert len(brokers) == values["kafka_broker_count"]
    for number, broker in enumerate(brokers, 1):
        assert broker == f"b-{number}.{values['msk_cluster_name']}.kafka.{values['region']}.amazonaws.com:9098"
    # 9098: MSK's listener for TLS with IAM sign-in, the only one the cluster opens to the nodes
    assert (cfg.kafka.security_protocol, cfg.kafka.authentication) == ("SASL_SSL", "iam")
    assert sorted(cfg.streaming.topics.values()) == sorted(values["kafka_topics"])
    for topic, settings in cfg.kafka.topics.items():
        assert settings.replication_factor == values["kafka_default_replication"], topic
        assert values["kafka_min_insync_replicas"] < settings.replication_factor, topic


def secret_references(value):
    """Every SecretRef in a config (the jobs read each one on the nodes)."""
    if isinstance(value, SecretRef):
        yield value
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from secret_references(getattr(value, field.name))
    elif isinstance(value, dict):
        for child in value.values():
            yield from secret_references(child)


def test_msk_never_creates_topics_on_first_use_and_speaks_tls_with_iam_sign_in_only():
    found = resources(MODULE)
    properties = found["aws_msk_configuration"]["this"]["server_properties"]
    assert "auto.create.topics.enable=false" in properties
    cluster = found["aws_msk_cluster"]["this"]
    encryption = cluster["encryption_info"][0]["encryption_in_transit"][0]
    assert encryption["client_broker"] == "TLS"
    (authentication,) = cluster["client_authentication"]
    assert authentication["unauthenticated"] is False
    assert (authentication["sasl"][0]["iam"], authentication["sasl"][0]["scram"]) == (True, False)
    assert "tls" not in authentication
    ingress = found["aws_vpc_security_group_ingress_rule"]
    to_brokers = [rule for rule in ingress.values() if rule["security_group_id"] == "${aws_security_group.msk.id}"]
    assert {(rule["from_port"], rule["to_port"]) for rule in to_brokers} == {(9098, 9098)}


def test_the_jobs_may_read_only_the_streamed_topics_as_their_own_consumer_groups():
    from lakehouse.kafka.offsets import OFFSET_LOOKUP_GROUP
    from lakehouse.streaming.kafka_source import CONSUMER_GROUP_PREFIX

    statements = policy_statements("emr_instance")
    kafka = {sid: s for sid, s in statements.items() if any(a.startswith("kafka-cluster:") for a in s["actions"])}
    assert set(kafka) == {"ConnectToKafka", "ReadTheStreamedTopics", "UseTheJobsConsumerGroups"}
    assert kafka["ConnectToKafka"]["resources"] == ["${aws_msk_cluster.this.arn}"]
    assert set(kafka["ReadTheStreamedTopics"]["actions"]) == {"kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"}
    assert kafka["ReadTheStreamedTopics"]["resources"] == (
        '${[for topic in var.kafka_topics : format(local.msk_resource, "topic", topic)]}')
    assert set(kafka["UseTheJobsConsumerGroups"]["actions"]) == {"kafka-cluster:DescribeGroup",
                                                                 "kafka-cluster:AlterGroup"}
    assert kafka["UseTheJobsConsumerGroups"]["resources"] == (
        '${[for group in var.kafka_consumer_groups : format(local.msk_resource, "group", group)]}')
    # The groups granted are the ones the code uses: Spark's generated <prefix>-..., the look-ups' own.
    groups = variables(MODULE)["kafka_consumer_groups"]["default"]
    assert sorted(groups) == sorted([f"{CONSUMER_GROUP_PREFIX}-*", OFFSET_LOOKUP_GROUP])
    no_writes = {"kafka-cluster:WriteData", "kafka-cluster:CreateTopic", "kafka-cluster:AlterTopic",
                 "kafka-cluster:DeleteTopic", "kafka-cluster:AlterCluster"}
    assert not no_writes & {a for statement in kafka.values() for a in statement["actions"]}


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
    assert statements["ReadReleasesJarsAndReference"]["actions"] == ["s3:GetObject"]
    listing = statements["ListReleasesJarsAndReference"]
    assert (listing["actions"], listing["resources"]) == (["s3:ListBucket"], ["${local.artifacts_arn}"])
    for sid, statement in statements.items():  # never a whole bucket's listing
        if "s3:ListBucket" in statement["actions"]:
            assert [c["variable"] for c in statement.get("condition", [])] == ["s3:prefix"], sid
    assert statements["ReadTheConfiguredSecrets"]["resources"] == (
        "${[for secret in aws_secretsmanager_secret.this : secret.arn]}")


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("purpose", ["transient", "ingest"])
def test_the_orchestrator_only_touches_clusters_tagged_with_its_environment(env, purpose):
    from lakehouse.orchestration.emr import job_flow_overrides

    statements = policy_statements("orchestrator")
    assert statements["CreateTaggedClusters"]["condition"][0]["variable"] == "aws:RequestTag/environment"
    assert statements["UseAndEndOwnClusters"]["condition"][0]["variable"] == "aws:ResourceTag/environment"
    request = job_flow_overrides(load_config(env, CONF_DIR, environ={}), "c", purpose)
    assert {"Key": "environment", "Value": tfvars(env)["environment"]} in request["Tags"]


def test_the_orchestrator_may_list_every_cluster_but_use_only_its_environments():
    statements = policy_statements("orchestrator")
    # find_cluster: ListClusters cannot be scoped, so it stands alone; DescribeCluster and the rest can.
    unscoped = {sid for sid, statement in statements.items() if "*" in statement["resources"]}
    assert unscoped == {"CreateTaggedClusters", "ListClustersToFindTheIngestCluster"}
    assert statements["ListClustersToFindTheIngestCluster"]["actions"] == ["elasticmapreduce:ListClusters"]
    assert "condition" in statements["CreateTaggedClusters"]
    scoped = statements["UseAndEndOwnClusters"]
    assert {"elasticmapreduce:DescribeCluster", "elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:DescribeStep",
            "elasticmapreduce:ListSteps", "elasticmapreduce:TerminateJobFlows"} <= set(scoped["actions"])
    emr_actions = {a for statement in statements.values() for a in statement["actions"] if a.startswith("elastic")}
    assert emr_actions == {"elasticmapreduce:RunJobFlow", "elasticmapreduce:ListClusters", *scoped["actions"]}
    # CI ships exactly what the jobs read.
    reads = policy_statements("emr_instance")["ReadReleasesJarsAndReference"]["resources"]
    assert sorted(statements["ShipReleases"]["resources"]) == sorted(reads)


@pytest.mark.parametrize("env", ENVS)
def test_the_orchestrator_reads_the_lineage_key_dbts_lineage_events_are_sent_with(env):
    # DbtOperator emits dbt's lineage events from the Airflow worker (lakehouse.lineage.dbt), which
    # resolves lineage.api_key there, not on the EMR nodes.
    cfg = load_config(env, CONF_DIR, environ={})
    values = tfvars(env)
    assert cfg.lineage.enabled
    assert cfg.lineage.api_key.scheme == "secretsmanager"
    assert cfg.lineage.api_key.name.partition("#")[0] == values["lineage_secret_id"]
    assert values["lineage_secret_id"] in values["secret_ids"]
    statements = policy_statements("orchestrator")
    read = statements["ReadTheLineageKey"]
    assert read["actions"] == ["secretsmanager:GetSecretValue"]
    assert read["resources"] == ["${aws_secretsmanager_secret.this[var.lineage_secret_id].arn}"]
    assert statements["EncryptReleases"]["actions"] == ["kms:GenerateDataKey", "kms:Decrypt"]  # the key's


def test_the_delta_log_table_has_deltas_keys_ttl_encryption_and_recovery():
    table = resources(MODULE)["aws_dynamodb_table"]["delta_log"]
    assert (table["hash_key"], table["range_key"]) == ("tablePath", "fileName")
    assert {a["name"]: a["type"] for a in table["attribute"]} == {"tablePath": "S", "fileName": "S"}
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["ttl"] == [{"__is_block__": True, "attribute_name": "expireTime", "enabled": True}]
    encryption = table["server_side_encryption"][0]
    assert (encryption["enabled"], encryption["kms_key_arn"]) == (True, "${aws_kms_key.lakehouse.arn}")
    assert table["point_in_time_recovery"][0]["enabled"] is True


@pytest.mark.parametrize("env", ENVS)
def test_the_config_commits_through_the_delta_log_table_terraform_creates(env):
    cfg = load_config(env, CONF_DIR, environ={})
    name = resources(MODULE)["aws_dynamodb_table"]["delta_log"]["name"]
    assert cfg.lake.log_store == "dynamodb"
    assert cfg.lake.log_store_table == name.replace("${var.environment}", tfvars(env)["environment"])


@pytest.mark.parametrize("env", CONF_ENVS)
def test_only_the_local_environment_uses_deltas_default_log_store(env):
    expected = "default" if env == "local" else "dynamodb"
    assert load_config(env, CONF_DIR, environ={}).lake.log_store == expected


def test_the_instance_role_may_use_only_the_delta_log_table_and_only_for_what_the_log_store_calls():
    statements = policy_statements("emr_instance")
    dynamodb = {sid: s for sid, s in statements.items() if any(a.startswith("dynamodb:") for a in s["actions"])}
    assert list(dynamodb) == ["CommitThroughTheDeltaLogTable"]
    statement = dynamodb["CommitThroughTheDeltaLogTable"]
    assert set(statement["actions"]) == DELTA_LOG_STORE_ACTIONS  # no CreateTable: Terraform creates it
    assert statement["resources"] == ["${aws_dynamodb_table.delta_log.arn}"]


@pytest.mark.parametrize("env", ENVS)
def test_the_instance_role_reads_exactly_the_artifacts_the_jobs_read(env):
    cfg = load_config(env, CONF_DIR, environ={})
    values = tfvars(env)
    artifacts, prefix = values["artifacts_bucket_name"], variables(INFRA)["artifacts_prefix"]["default"]
    statements = policy_statements("emr_instance")
    uris = dict(s3_uris(cfg))
    assert {"emr.artifacts_uri", "emr.log_uri", "streaming.fx_rates_seed", "spark.extra_jars[0]"} <= set(uris)
    assert {re.match(r"s3a?://([^/]+)/", uri).group(1) for uri in uris.values()} <= {
        values["lake_bucket_name"], artifacts}

    # Every URI the jobs read in the artifacts bucket needs `<prefix>/<its folder>/*`; a release is
    # <emr.artifacts_uri>/<version>/... The clusters' logs (emr.log_uri) are written: WriteClusterLogs.
    needed: dict[str, list[str]] = {}
    for key, uri in uris.items():
        bucket, _, path = re.sub(r"^s3a?://", "", uri).partition("/")
        if bucket != artifacts or key == "emr.log_uri":
            continue
        if key == "emr.artifacts_uri":
            path += "/<version>/lakehouse.whl"
        assert re.fullmatch(rf"{re.escape(prefix)}/[^/]+/.*[^/]", path), f"{key}: {uri} is no file under {prefix}/"
        folder = path.split("/")[1]
        needed.setdefault(f"${{local.artifacts_arn}}/${{var.artifacts_prefix}}/{folder}/*", []).append(key)

    granted = {resource for statement in statements.values() if "s3:GetObject" in statement["actions"]
               for resource in statement["resources"] if resource.startswith("${local.artifacts_arn}")}
    assert set(needed) == granted, needed  # no missing read, no excess read
    listed = statements["ListReleasesJarsAndReference"]["condition"][0]["values"]
    assert sorted(listed) == sorted(resource.removeprefix("${local.artifacts_arn}/") for resource in granted)
    assert uris["emr.log_uri"] == f"s3://{artifacts}/{prefix}/emr-logs/"
    assert statements["WriteClusterLogs"]["resources"] == ["${local.artifacts_arn}/${var.artifacts_prefix}/emr-logs/*"]


def test_terraform_fmt_leaves_nothing_to_change():
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.fail("terraform is needed for this check (`terraform fmt -check -recursive infra`): install it "
                    "(any version >= 1.5; fmt needs no providers)")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", "-no-color", str(INFRA)],
        capture_output=True, text=True, timeout=120, check=False, env={**os.environ, "CHECKPOINT_DISABLE": "1"},
    )
    assert result.returncode == 0, f"run `terraform fmt -recursive infra`:\n{result.stdout}{result.stderr}"


def emr_security_configuration() -> dict:
    """The JSON of aws_emr_security_configuration.this, with Terraform's references left as strings."""
    body = resources(MODULE)["aws_emr_security_configuration"]["this"]["configuration"]
    assert body.startswith("${jsonencode("), body
    assert body.endswith(")}"), body
    return hcl2.loads(f"x = {body[len('${jsonencode('):-2]}")["x"]


def test_emr_encrypts_at_rest_with_the_lake_key_and_in_transit_with_tls_and_requires_imdsv2():
    config = unquote(emr_security_configuration())
    encryption = config["EncryptionConfiguration"]
    assert (encryption["EnableAtRestEncryption"], encryption["EnableInTransitEncryption"]) == (True, True)
    at_rest = encryption["AtRestEncryptionConfiguration"]
    assert at_rest["S3EncryptionConfiguration"] == {"EncryptionMode": "SSE-KMS",
                                                    "AwsKmsKey": "${aws_kms_key.lakehouse.arn}"}
    assert at_rest["LocalDiskEncryptionConfiguration"] == {
        "EncryptionKeyProviderType": "AwsKms", "AwsKmsKey": "${aws_kms_key.lakehouse.arn}", "EnableEbsEncryption": True}
    assert encryption["InTransitEncryptionConfiguration"]["TLSCertificateConfiguration"] == {
        "CertificateProviderType": "PEM", "S3Object": "${var.emr_tls_certificates_s3_uri}"}
    assert config["InstanceMetadataServiceConfiguration"]["MinimumInstanceMetadataServiceVersion"] == 2
    # Every node fetches the certificates with the nodes' role.
    read = policy_statements("emr_instance")["ReadTheTlsCertificates"]
    assert read["actions"] == ["s3:GetObject"]
    assert read["resources"] == ['arn:${local.partition}:s3:::${trimprefix(var.emr_tls_certificates_s3_uri, "s3://")}']


@pytest.mark.parametrize("env", ENVS)
def test_the_clusters_name_the_security_configuration_terraform_creates(env):
    from lakehouse.orchestration.emr import job_flow_overrides

    values = tfvars(env)
    assert resources(MODULE)["aws_emr_security_configuration"]["this"]["name"] == (
        "${var.emr_security_configuration_name}")
    request = job_flow_overrides(load_config(env, CONF_DIR, environ={}), "c", "transient")
    assert request["SecurityConfiguration"] == values["emr_security_configuration_name"]
    assert values["emr_tls_certificates_s3_uri"].startswith(f"s3://{values['artifacts_bucket_name']}/")
