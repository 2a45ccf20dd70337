"""The one function that builds every job's spark-submit command, the EMR step around it, step names
and the transient cluster's request: checked against literal expectations per environment."""
from __future__ import annotations

import importlib.metadata

import pytest

from lakehouse.config import load_config
from lakehouse.orchestration.commands import emr_step, job_file, spark_submit_command, step_name
from lakehouse.orchestration.emr import job_flow_overrides
from lakehouse.spark import cds
from tests.conftest import CONF_DIR, PROJECT_ROOT, local_config

VERSION = importlib.metadata.version("lakehouse-jobs")
PROD_RELEASE = f"s3://company-artifacts/lakehouse/releases/{VERSION}"
PROD_JARS = ",".join([*(f"s3://company-artifacts/lakehouse/jars/{jar}" for jar in (
    "spark-sql-kafka-0-10_2.12-3.5.7.jar", "spark-token-provider-kafka-0-10_2.12-3.5.7.jar",
    "kafka-clients-3.4.1.jar", "commons-pool2-2.11.1.jar", "postgresql-42.7.8.jar", "lakehouse-udf-1.jar",
    "aws-msk-iam-auth-2.2.0-all.jar", "openlineage-spark_2.12-1.25.0.jar")),
    "local:/usr/share/aws/delta/lib/delta-storage-s3-dynamodb.jar"])


def env_config(env: str, *overrides: str):
    return load_config(env, CONF_DIR, overrides, environ={})


def test_prod_command_runs_the_release_on_s3_with_the_jars_the_cluster_lacks():
    command = spark_submit_command(env_config("prod"), "postgres_extract", ["--mode", "incremental"])
    assert command == [
        "spark-submit",
        "--jars", PROD_JARS,
        "--deploy-mode", "cluster",
        "--conf", "spark.yarn.maxAppAttempts=1",
        "--conf", "spark.yarn.appMasterEnv.AWS_DEFAULT_REGION=us-west-2",
        "--archives", f"{PROD_RELEASE}/python-deps-cp39-aarch64.tar.gz#pydeps",
        "--conf", "spark.yarn.appMasterEnv.PYTHONPATH=$PWD/pydeps",
        "--conf", "spark.executorEnv.PYTHONPATH=$PWD/pydeps",
        "--py-files", f"{PROD_RELEASE}/lakehouse_jobs-{VERSION}-py3-none-any.whl",
        "--files", f"{PROD_RELEASE}/conf/base.yaml,{PROD_RELEASE}/conf/prod.yaml",
        f"{PROD_RELEASE}/jobs/batch/postgres_extract.py",
        "--env", "prod", "--conf-dir", ".",
        "--mode", "incremental",
    ]


def test_dev_command_reads_the_dev_artifacts_bucket():
    command = spark_submit_command(env_config("dev"), "kafka_to_bronze", ["--trigger", "available-now"])
    release = f"s3://company-artifacts-dev/lakehouse/releases/{VERSION}"
    assert command[command.index("--py-files") + 1] == f"{release}/lakehouse_jobs-{VERSION}-py3-none-any.whl"
    assert f"{release}/jobs/streaming/kafka_to_bronze.py" in command
    assert command[-6:] == ["--env", "dev", "--conf-dir", ".", "--trigger", "available-now"]
    jars = command[command.index("--jars") + 1].split(",")
    assert all(jar.startswith(("s3://company-artifacts-dev/", "local:/usr/share/aws/")) for jar in jars)


def test_local_command_runs_this_checkout_with_the_local_jars_and_no_release():
    cfg = local_config()
    command = spark_submit_command(cfg, "table_maintenance", ["--skip-vacuum"])
    jars = sorted(str(p) for p in (PROJECT_ROOT / ".local" / "jars" / "spark").glob("*.jar"))
    assert jars, "run `make jars` first"
    archive = cds.archive_path(cfg, jars)
    assert archive.is_file(), "run `make setup` first (lakehouse-cds records the class-data sharing archive)"
    assert command == [
        "spark-submit", "--master", "local[2]", "--driver-class-path", ":".join(jars), "--driver-memory", "3g",
        "--driver-java-options", f"-XX:SharedArchiveFile={archive}",
        f"{PROJECT_ROOT}/jobs/batch/table_maintenance.py",
        "--env", "local", "--conf-dir", f"{PROJECT_ROOT}/conf",
        "--skip-vacuum",
    ]
    assert not any(arg.startswith("s3://") for arg in command)


def test_a_version_can_be_pinned_for_a_rollback():
    command = spark_submit_command(env_config("prod"), "postgres_extract", version="0.0.9")
    assert "s3://company-artifacts/lakehouse/releases/0.0.9/lakehouse_jobs-0.0.9-py3-none-any.whl" in command


def test_emr_step_wraps_the_command_in_command_runner_and_keeps_the_cluster_on_failure():
    step = emr_step(env_config("prod"), "table_maintenance", [], name="n")
    assert step["Name"] == "n"
    assert step["ActionOnFailure"] == "CONTINUE"
    assert step["HadoopJarStep"]["Jar"] == "command-runner.jar"
    assert step["HadoopJarStep"]["Args"][0] == "spark-submit"
    assert step["HadoopJarStep"]["Args"][-4:] == ["--env", "prod", "--conf-dir", "."]


def test_emr_steps_are_refused_for_the_local_runner():
    with pytest.raises(ValueError, match=r"emr\.runner is 'local'"):
        emr_step(local_config(), "postgres_extract")


def test_unknown_job_names_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown job 'postgres'; known jobs: bronze_to_silver, files_to_bronze"):
        job_file("postgres")


def test_step_names_are_deterministic_per_run_and_task_and_fit_emr():
    run = "scheduled__2026-11-25T02:00:00+00:00"
    name = step_name("daily_warehouse_build", "ingest_files", run)
    assert name == "daily_warehouse_build.ingest_files.scheduled__2026-11-25T02:00:00+00:00"
    assert step_name("daily_warehouse_build", "ingest_files", run) == name
    assert step_name("daily_warehouse_build", "ingest_files", "manual__x") != name
    long_a = step_name("d" * 200, "t", "a" * 100)
    long_b = step_name("d" * 200, "t", "a" * 99 + "b")
    assert len(long_a) == len(long_b) == 256
    assert long_a != long_b


def test_transient_cluster_request_for_prod():
    cfg = env_config("prod", "emr.cluster.subnet_id=subnet-0abc", "emr.cluster.master_security_group=sg-1")
    request = job_flow_overrides(cfg, "lakehouse-prod-run", "transient")
    assert request["ReleaseLabel"] == "emr-7.13.0"
    assert request["Applications"] == [{"Name": "Spark"}]
    assert {"Classification": "delta-defaults", "Properties": {"delta.enabled": "true"}} in request["Configurations"]
    assert request["JobFlowRole"] == "prod-lakehouse-emr-instance"
    assert request["ServiceRole"] == "prod-lakehouse-emr-service"
    assert request["LogUri"] == "s3://company-artifacts/lakehouse/emr-logs/"
    assert request["Instances"]["Ec2SubnetId"] == "subnet-0abc"
    assert request["Instances"]["EmrManagedMasterSecurityGroup"] == "sg-1"
    assert "EmrManagedSlaveSecurityGroup" not in request["Instances"]
    assert request["Instances"]["KeepJobFlowAliveWhenNoSteps"] is True
    assert request["AutoTerminationPolicy"] == {"IdleTimeout": 3600}
    assert request["StepConcurrencyLevel"] == 1
    assert "BootstrapActions" not in request   # the release carries its Python dependencies
    assert request["SecurityConfiguration"] == "prod-lakehouse-emr"   # KMS at rest, TLS in transit, IMDSv2
    assert {"Key": "environment", "Value": "prod"} in request["Tags"]
    assert {"Key": "lakehouse-cluster", "Value": "transient"} in request["Tags"]


def test_the_ingest_cluster_request_differs_in_name_lifetime_concurrency_and_tag_only():
    cfg = env_config("prod")
    transient, ingest = job_flow_overrides(cfg, "n", "transient"), job_flow_overrides(cfg, "n", "ingest")
    assert ingest["AutoTerminationPolicy"] == {"IdleTimeout": 60 * cfg.emr.ingest_cluster.idle_timeout_minutes}
    assert ingest["StepConcurrencyLevel"] == 2
    assert {"Key": "lakehouse-cluster", "Value": "ingest"} in ingest["Tags"]
    different = {key for key in transient if transient[key] != ingest[key]}
    assert {"StepConcurrencyLevel", "Tags"} <= different <= {"AutoTerminationPolicy", "StepConcurrencyLevel", "Tags"}


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize("purpose", ["transient", "ingest"])
def test_every_cluster_the_dags_create_names_the_environments_security_configuration(env, purpose):
    request = job_flow_overrides(env_config(env), "n", purpose)
    assert request["SecurityConfiguration"] == f"{env}-lakehouse-emr"


def test_config_refuses_an_emr_release_older_than_7():
    from lakehouse.config import ConfigError

    with pytest.raises(ConfigError, match=r"emr.cluster.release_label: must be an EMR 7.x release"):
        env_config("prod", "emr.cluster.release_label=emr-6.15.0")


def test_dbt_runs_against_the_environments_target_and_lake():
    from lakehouse.orchestration.dbt import dbt_command, dbt_env

    prod = env_config("prod")
    assert dbt_command(prod, ["source", "freshness"]) == [
        "dbt", "source", "freshness", "--project-dir", f"{PROJECT_ROOT}/dbt", "--profiles-dir", f"{PROJECT_ROOT}/dbt",
        "--target", "prod"]
    assert dbt_env(prod) == {"DBT_LAKE_ROOT": "s3://company-data-lake/lakehouse", "DBT_TARGET": "prod",
                             "DBT_PROFILES_DIR": f"{PROJECT_ROOT}/dbt", "DBT_PROJECT_DIR": f"{PROJECT_ROOT}/dbt",
                             "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_VERSION_CHECK": "false"}
    local = local_config("lake.root=/tmp/demo/lake/")
    assert dbt_env(local)["DBT_LAKE_ROOT"] == "/tmp/demo/lake"
    assert dbt_env(local)["DBT_DUCKDB_PATH"] == "/tmp/demo/warehouse/lakehouse.duckdb"
    assert dbt_command(local, ["build"])[-2:] == ["--target", "local"]
