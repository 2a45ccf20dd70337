"""The session factory's settings, derived from config without starting Spark."""
from __future__ import annotations

import pytest

from lakehouse.config import ConfigError, load_config
from lakehouse.spark.session import spark_conf, spark_submit_args
from tests.conftest import CONF_DIR, local_config


def local_config_with_keys(folder, *overrides):
    (folder / "ak").write_text("AK-test")
    (folder / "sk").write_text("SK-test")
    return local_config(f"s3.access_key=file:{folder}/ak", f"s3.secret_key=file:{folder}/sk", *overrides)


def test_local_sessions_get_delta_and_the_maven_jars_on_the_class_path(tmp_path):
    conf = spark_conf(local_config_with_keys(tmp_path))
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.sql.catalog.spark_catalog"] == "org.apache.spark.sql.delta.catalog.DeltaCatalog"
    jar_names = {path.rsplit("/", 1)[-1] for path in conf["spark.driver.extraClassPath"].split(":")}
    assert {"delta-spark_2.12-3.3.3.jar", "spark-sql-kafka-0-10_2.12-3.5.7.jar", "hadoop-aws-3.3.4.jar",
            "lakehouse-udf-1.jar"} <= jar_names
    assert "spark.jars" not in conf
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.sql.shuffle.partitions"] == "4"


def test_s3a_settings_use_the_endpoint_and_resolved_keys(tmp_path):
    conf = spark_conf(local_config_with_keys(tmp_path))
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:15000"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3a.access.key"] == "AK-test"
    assert conf["spark.hadoop.fs.s3a.secret.key"] == "SK-test"


def test_emr_sessions_take_jars_from_config_and_no_s3a_settings():
    conf = spark_conf(load_config("prod", CONF_DIR, environ={}))
    assert conf["spark.jars"].startswith("s3://company-artifacts/lakehouse/jars/spark-sql-kafka-0-10_2.12-3.5.7.jar")
    assert not any(key.startswith("spark.hadoop.fs.s3a") for key in conf)
    assert "spark.master" not in conf


def test_spark_submit_args_carry_launch_options_and_no_secrets(tmp_path):
    args = spark_submit_args(local_config_with_keys(tmp_path))
    assert args[:2] == ["--master", "local[2]"]
    assert "--driver-class-path" in args
    assert "--jars" not in args
    assert "--driver-memory" in args
    assert not any("SK-test" in arg for arg in args)


def test_a_remote_jar_with_a_local_master_still_goes_through_spark_jars(tmp_path):
    conf = spark_conf(local_config_with_keys(tmp_path, "spark.extra_jars=[s3://bucket/jars/extra-1.jar]"))
    assert conf["spark.jars"] == "s3://bucket/jars/extra-1.jar"
    assert "s3://" not in conf["spark.driver.extraClassPath"]


def test_missing_jars_folder_says_how_to_fetch_it(tmp_path):
    with pytest.raises(ConfigError, match=r"run `make jars`"):
        spark_conf(local_config_with_keys(tmp_path, f"spark.jars_dir={tmp_path}"))


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_shared_environments_commit_through_the_dynamodb_log_store_with_emrs_jar(env):
    cfg = load_config(env, CONF_DIR, environ={})
    conf = spark_conf(cfg)
    assert conf["spark.delta.logStore.s3.impl"] == "io.delta.storage.S3DynamoDBLogStore"
    assert conf["spark.delta.logStore.s3a.impl"] == "io.delta.storage.S3DynamoDBLogStore"
    assert conf["spark.io.delta.storage.S3DynamoDBLogStore.ddb.tableName"] == f"{env}-lakehouse-delta-log"
    assert conf["spark.io.delta.storage.S3DynamoDBLogStore.ddb.region"] == cfg.s3.region
    jars = spark_submit_args(cfg)[spark_submit_args(cfg).index("--jars") + 1].split(",")
    assert jars[-1] == "local:/usr/share/aws/delta/lib/delta-storage-s3-dynamodb.jar"  # on every EMR 7 node


def test_local_sessions_keep_deltas_default_log_store(tmp_path):
    conf = spark_conf(local_config_with_keys(tmp_path))
    assert not any(key.startswith(("spark.delta.logStore", "spark.io.delta.storage")) for key in conf)


def test_the_dynamodb_log_store_needs_its_table():
    with pytest.raises(ConfigError, match=r"lake\.log_store_table: required when log_store is dynamodb"):
        load_config("prod", CONF_DIR, ["lake.log_store_table=null"], environ={})


@pytest.mark.parametrize("env", ["local", "prod"])
def test_the_configs_driver_java_options_reach_the_driver_jvm_that_spark_submit_starts(env, tmp_path):
    # A driver started by spark-submit (locally, or in YARN's container on EMR) has its JVM before the
    # job builds its session: options set then come too late, so spark-submit must be given them.
    option = "spark.conf.spark.driver.extraJavaOptions=-Dlakehouse.probe=1"
    cfg = local_config_with_keys(tmp_path, option) if env == "local" else load_config(env, CONF_DIR, [option],
                                                                                      environ={})
    args = spark_submit_args(cfg)
    assert args[args.index("--driver-java-options") + 1].split()[-1] == "-Dlakehouse.probe=1"
