"""`lakehouse-ship-artifacts` against the local S3 endpoint: the release holds everything the EMR
steps reference, the wheel is the package, and the packed dependencies are the cluster's pins for its
Python and CPU, without what the cluster provides."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import uuid
import zipfile
from pathlib import Path

import pytest

from lakehouse.orchestration.commands import JOB_FILES, package_version, spark_submit_command
from lakehouse.services.s3 import s3_client
from tests.conftest import PROJECT_ROOT, local_config

JARS = ("postgresql-42.7.8.jar", "spark-sql-kafka-0-10_2.12-3.5.7.jar", "lakehouse-udf-1.jar")


@pytest.fixture
def bucket(s3_service):
    name = f"artifacts-{uuid.uuid4().hex[:12]}"
    s3_client(local_config()).create_bucket(Bucket=name)
    return name


def ship(bucket: str, *extra: str, jars=JARS) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("lakehouse-ship-artifacts")), "--env", "local",
               "--set", f"emr.artifacts_uri=s3://{bucket}/releases",
               "--set", "spark.extra_jars=[" + ",".join(f"s3://{bucket}/jars/{jar}" for jar in jars) + "]", *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE__")}
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)


def emr_like_config(bucket: str):
    """The local config as an EMR environment would see it: the runner, the release and the jars on S3."""
    return local_config("emr.runner=emr", f"emr.artifacts_uri=s3://{bucket}/releases", "spark.jars_dir=null",
                        "emr.cluster.service_role=r", "emr.cluster.instance_profile=p",
                        "emr.cluster.security_configuration=s",
                        "spark.extra_jars=[" + ",".join(f"s3://{bucket}/jars/{jar}" for jar in JARS) + "]")


def keys(bucket: str) -> set[str]:
    pages = s3_client(local_config()).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {obj["Key"] for page in pages for obj in page.get("Contents", [])}


def test_the_release_holds_everything_the_steps_and_the_cluster_reference(bucket):
    result = ship(bucket)
    assert result.returncode == 0, result.stdout + result.stderr
    version = package_version()
    assert result.stdout.startswith(f"release s3://{bucket}/releases/{version} (")
    shipped = {f"s3://{bucket}/{key}" for key in keys(bucket)}

    cfg = emr_like_config(bucket)
    existing_jobs = [job for job, path in JOB_FILES.items() if (PROJECT_ROOT / path).is_file()]
    assert "table_maintenance" in existing_jobs
    referenced = set()
    for job in existing_jobs:
        for arg in spark_submit_command(cfg, job):
            referenced.update(uri.split("#")[0] for uri in arg.split(",") if uri.startswith("s3://"))
    assert referenced - shipped == set()
    assert {f"s3://{bucket}/releases/{version}/conf/{name}.yaml" for name in ("base", "local")} <= shipped
    assert f"s3://{bucket}/releases/{version}/conf/prod.yaml" not in shipped  # one environment per release

    deps_key = f"releases/{version}/python-deps-cp39-aarch64.tar.gz"   # local's instance types are Graviton
    deps = s3_client(cfg).get_object(Bucket=bucket, Key=deps_key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(deps)) as archive:
        members = archive.getnames()
    tops = {name.split("/")[0] for name in members}
    assert {"yaml", "psycopg", "psycopg_binary", "confluent_kafka", "boto3", "delta"} <= tops
    assert not {"pyspark", "py4j", "lakehouse", "bin"} & tops   # the cluster's own; the wheel; scripts
    extensions = [name for name in members if name.endswith(".so")]
    assert extensions
    assert all("cpython-39-aarch64-linux-gnu" in name for name in extensions if "cpython" in name)

    wheel_key = f"releases/{version}/lakehouse_jobs-{version}-py3-none-any.whl"
    wheel = s3_client(cfg).get_object(Bucket=bucket, Key=wheel_key)
    names = zipfile.ZipFile(io.BytesIO(wheel["Body"].read())).namelist()
    assert "lakehouse/orchestration/commands.py" in names
    assert "lakehouse/maintenance/tables.py" in names
    assert "lakehouse_jobs/batch/table_maintenance.py" in names
    assert not [name for name in names if "__pycache__" in name or name.startswith("tests/")]


def test_a_dry_run_lists_the_release_and_uploads_nothing(bucket):
    result = ship(bucket, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"-> s3://{bucket}/releases/{package_version()}/jobs/batch/table_maintenance.py" in result.stdout
    assert f"-> s3://{bucket}/jars/postgresql-42.7.8.jar" in result.stdout
    assert keys(bucket) == set()


def test_a_jar_missing_locally_fails_before_anything_is_built(bucket):
    # A glibc no wheel supports would fail the Python dependencies' build: never reached.
    result = ship(bucket, "--set", "emr.glibc_version=1.0", jars=("postgresql-42.7.8.jar", "not-fetched-1.0.jar"))
    assert result.returncode == 1
    assert f"spark.extra_jars names s3://{bucket}/jars/not-fetched-1.0.jar but " in result.stderr
    assert "run `make jars`" in result.stderr
    assert keys(bucket) == set()


def test_reference_data_the_config_names_on_s3_ships_and_a_missing_one_fails_naming_it(bucket):
    result = ship(bucket, "--set", f"streaming.fx_rates_seed=s3://{bucket}/reference/fx_rates.csv")
    assert result.returncode == 0, result.stderr
    assert "reference/fx_rates.csv" in keys(bucket)
    result = ship(bucket, "--set", f"streaming.fx_rates_seed=s3://{bucket}/reference/rates_v2.csv")
    assert result.returncode == 1
    assert f"streaming.fx_rates_seed names s3://{bucket}/reference/rates_v2.csv but " in result.stderr
    assert "conf/reference/rates_v2.csv does not exist" in result.stderr
