"""Config layering and validation, with the exact messages a user sees."""
from __future__ import annotations

import re
import textwrap

import pytest
import yaml

from lakehouse.config import ConfigError, SecretError, SecretRef, describe, load_config
from tests.conftest import CONF_DIR


@pytest.fixture
def conf_dir(tmp_path):
    """A copy of the real conf/ that a test may edit."""
    folder = tmp_path / "conf"
    folder.mkdir()
    for path in CONF_DIR.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text())
    return folder


def error_of(*args, **kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(*args, **kwargs)
    return str(info.value)


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_shipped_environment_loads(env):
    cfg = load_config(env, CONF_DIR, environ={})
    assert cfg.env == env
    assert set(cfg.kafka.topics) == {"user_events", "transaction_events", "system_metrics"}


def test_layers_apply_in_order_base_env_environment_set(conf_dir):
    base_only = load_config("prod", conf_dir, environ={})
    assert base_only.spark.log_level == "WARN"  # base.yaml
    assert base_only.spark.shuffle_partitions == 64  # prod.yaml over base.yaml
    from_env = load_config("prod", conf_dir, environ={"LAKEHOUSE__SPARK__SHUFFLE_PARTITIONS": "7"})
    assert from_env.spark.shuffle_partitions == 7
    from_cli = load_config(
        "prod", conf_dir, ["spark.shuffle_partitions=9"], environ={"LAKEHOUSE__SPARK__SHUFFLE_PARTITIONS": "7"}
    )
    assert from_cli.spark.shuffle_partitions == 9


def test_env_file_merges_nested_keys_instead_of_replacing_sections():
    cfg = load_config("local", CONF_DIR, environ={})
    assert cfg.kafka.topics["transaction_events"].partitions == 20  # base.yaml
    assert cfg.kafka.topics["transaction_events"].replication_factor == 1  # local.yaml


def test_strings_from_the_command_line_stay_strings_where_strings_are_expected():
    cfg = load_config("local", CONF_DIR, ["spark.app_name=123", "spark.conf.spark.foo=true"], environ={})
    assert cfg.spark.app_name == "123"
    assert cfg.spark.conf["spark.foo"] == "true"


def test_relative_local_paths_resolve_against_the_project_root(conf_dir):
    cfg = load_config("local", conf_dir, environ={})
    assert cfg.lake.root == f"{conf_dir.parent}/.local/lake"
    assert load_config("prod", conf_dir, environ={}).lake.root == "s3://company-data-lake/lakehouse"


def test_unknown_key_names_the_key_the_file_and_the_known_keys(conf_dir):
    (conf_dir / "local.yaml").write_text((conf_dir / "local.yaml").read_text().replace("\nkafka:\n",
                                                                                       "\nkafka:\n  bootstrap: x\n"))
    assert error_of("local", conf_dir, environ={}) == textwrap.dedent("""\
        invalid config for env 'local':
          kafka.bootstrap: unknown key; known keys here: authentication, bootstrap_servers, options, \
security_protocol, topics (conf/local.yaml)""")


def test_wrong_type_names_the_key_the_value_and_where_it_came_from(conf_dir):
    message = error_of("local", conf_dir, ["kafka.topics.user_events.partitions=ten"], environ={})
    assert message.endswith("kafka.topics.user_events.partitions: expected int, got str 'ten' (--set)")
    message = error_of("local", conf_dir, environ={"LAKEHOUSE__SPARK__UI_ENABLED": "maybe"})
    assert message.endswith(
        "spark.ui_enabled: expected bool, got str 'maybe' (environment variable LAKEHOUSE__SPARK__UI_ENABLED)"
    )


def test_missing_value_names_the_key_and_the_files_searched(conf_dir):
    prod = (conf_dir / "prod.yaml").read_text()
    (conf_dir / "prod.yaml").write_text(re.sub(r"\n  user: lakehouse_reader", "", prod))
    assert error_of("prod", conf_dir, environ={}).endswith(
        "postgres.user: missing value (not set in conf/base.yaml or conf/prod.yaml); "
        "add it there or pass --set postgres.user=..."
    )


def test_a_secret_given_as_a_value_is_refused(conf_dir):
    (conf_dir / "dev.yaml").write_text((conf_dir / "dev.yaml").read_text().replace(
        "secretsmanager:dev/lakehouse/postgres#password", "hunter2"))
    assert error_of("dev", conf_dir, environ={}).endswith(
        "postgres.password: a secret must be a reference like env:..., file:..., secretsmanager:..., "
        "airflow:..., not a value (conf/dev.yaml)"
    )


def test_missing_secret_reference_for_s3_keys():
    message = error_of("prod", CONF_DIR, ["s3.credentials=keys"], environ={})
    assert message == (
        "invalid config for env 'prod':\n"
        "  s3.access_key: missing secret reference (required when s3.credentials is 'keys') (conf/base.yaml)\n"
        "  s3.secret_key: missing secret reference (required when s3.credentials is 'keys') (conf/base.yaml)"
    )


def test_secret_looking_spark_conf_is_refused():
    message = error_of("local", CONF_DIR, ["spark.conf.spark.hadoop.fs.s3a.secret.key=abc"], environ={})
    assert "spark.conf.spark.hadoop.fs.s3a.secret.key: looks like a secret" in message


def test_every_problem_is_reported_at_once():
    message = error_of("local", CONF_DIR, ["spark.bogus=1", "postgres.port=x"], environ={})
    assert message.count("\n  ") == 2


def test_unknown_environment_lists_the_known_ones():
    assert "environments in" in error_of("staging", CONF_DIR, environ={})
    assert "dev, local, prod" in error_of("staging", CONF_DIR, environ={})


def test_malformed_override_is_explained():
    assert error_of("local", CONF_DIR, ["spark.shuffle_partitions"], environ={}) == (
        "--set 'spark.shuffle_partitions': expected key=value, e.g. --set spark.shuffle_partitions=4"
    )


def test_describe_shows_secret_references_never_values(monkeypatch):
    monkeypatch.setenv("PGPASS_FOR_TEST", "s3cr3t-value")
    cfg = load_config("local", CONF_DIR, ["postgres.password=env:PGPASS_FOR_TEST"], environ={})
    text = "\n".join(describe(cfg))
    assert "postgres.password = env:PGPASS_FOR_TEST (secret reference)" in text
    assert "s3cr3t-value" not in text
    assert cfg.postgres.password.resolve() == "s3cr3t-value"


def test_secret_references_resolve_or_say_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(SecretError, match="environment variable NOT_SET_ANYWHERE is not set"):
        SecretRef.parse("env:NOT_SET_ANYWHERE").resolve()
    (tmp_path / "pw").write_text("from-file\n")
    assert SecretRef.parse("file:pw", str(tmp_path)).resolve() == "from-file"
    with pytest.raises(SecretError, match="does not exist"):
        SecretRef.parse("file:absent", str(tmp_path)).resolve()


# Each environment's own resources: never in base.yaml, always named by the environment's file.
ENVIRONMENT_RESOURCES = (
    "lake.root", "lake.checkpoint_root", "s3.region", "kafka.bootstrap_servers", "postgres.host",
    "postgres.database", "postgres.user", "postgres.password", "emr.aws_conn_id", "emr.artifacts_uri",
    "emr.log_uri", "emr.cluster.service_role", "emr.cluster.instance_profile", "emr.cluster.security_configuration",
    "airflow.alert_emails",
    "airflow.dbt_target", "streaming.fx_rates_seed",
)


def leaves(tree: dict, prefix: str = ""):
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def test_base_names_no_environments_resources():
    base = dict(leaves(yaml.safe_load((CONF_DIR / "base.yaml").read_text())))
    assert set(ENVIRONMENT_RESOURCES) & set(base) == set()
    looks_like_a_resource = re.compile(r"s3a?://|@|\.internal|amazonaws\.com|\b(prod|dev)\b|company")
    assert [(key, value) for key, value in base.items() if looks_like_a_resource.search(str(value))] == []


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
@pytest.mark.parametrize("key", ENVIRONMENT_RESOURCES)
def test_an_environment_that_forgets_one_of_its_resources_fails_naming_it(conf_dir, env, key):
    path = conf_dir / f"{env}.yaml"
    tree = yaml.safe_load(path.read_text())
    *parents, leaf = key.split(".")
    node = tree
    for part in parents:
        node = node[part]
    del node[leaf]
    path.write_text(yaml.safe_dump(tree))
    assert f"{key}: missing value (not set in conf/base.yaml or conf/{env}.yaml)" in error_of(env, conf_dir, environ={})


def test_an_emr_environment_needs_its_roles():
    message = error_of("local", CONF_DIR, ["emr.runner=emr"], environ={})
    assert "emr.cluster.service_role: required when runner is emr" in message
    assert "emr.cluster.instance_profile: required when runner is emr" in message
    assert "emr.cluster.security_configuration: required when runner is emr" in message


def test_the_nodes_cpu_follows_the_instance_types_and_must_be_one():
    assert load_config("prod", CONF_DIR, environ={}).emr.cluster.architecture == "aarch64"   # m6g: Graviton
    x86 = load_config("prod", CONF_DIR, ["emr.cluster.master_instance_type=m6i.xlarge",
                                         "emr.cluster.core_instance_type=m6i.2xlarge"], environ={})
    assert x86.emr.cluster.architecture == "x86_64"
    message = error_of("prod", CONF_DIR, ["emr.cluster.master_instance_type=m6i.xlarge"], environ={})
    assert "emr.cluster.master_instance_type: m6i.xlarge and core_instance_type m6g.2xlarge must share one" in message


def test_maintenance_parallelism_below_one_is_refused():
    message = error_of("local", CONF_DIR, ["maintenance.parallelism=0"], environ={})
    assert "  maintenance.parallelism: must be at least 1" in message
