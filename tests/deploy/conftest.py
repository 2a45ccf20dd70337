"""The production-shaped tier: a release goes the whole way a release goes, on local stand-ins.

1. `lakehouse-ship-artifacts --env prod` uploads the release to S3 (moto's server, in a process of its own).
2. The DAGs run with prod's config (`emr.runner: emr`) against moto's EMR, in `dag.test()`.
3. Every step moto receives is run as EMR's command-runner.jar runs it: `spark-submit --deploy-mode
   cluster` onto a YARN mini cluster whose nodes have EMR's libraries and a bare Python 3.9
   (tests/deploy/standin.py, tests/deploy/command_runner.py).
4. The jobs read the real Kafka broker and Postgres, and write Delta tables on S3 (moto, via S3A).

prod's config is used as it is, except what necessarily differs on this machine, listed once in
`cluster_overrides` and `airflow_overrides`: the endpoints (Kafka, Postgres, the AWS APIs), this run's
topics and database, the nodes' instance types (this machine is x86_64; prod's nodes are Graviton)
and the shuffle partitions sized for them, how often Airflow polls, the daily build's deadline
(`dag.test()` cannot run a DAG with one), and the Delta log store (EMR's DynamoDB log store jar is
not on Maven Central). Everything is package-scoped: built once for tests/deploy, torn down after it.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from lakehouse.config import Config, load_config
from tests.conftest import CONF_DIR, PROJECT_ROOT, local_config, unique_name
from tests.dags.conftest import airflow_db  # noqa: F401  (Airflow's home and database, before Airflow loads)
from tests.deploy.command_runner import StepLog
from tests.deploy.standin import EmrStandIn, Endpoints, python_version, start_standin

ENV = "prod"
REGION = "us-west-2"
STANDIN_INSTANCE_TYPES = {"master_instance_type": "m6i.xlarge", "core_instance_type": "m6i.2xlarge"}


@dataclass
class Sources:
    """This run's Kafka topics (contract -> topic) and Postgres database."""

    topics: dict[str, str]
    database: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="package")
def endpoints() -> Endpoints:
    """Where the stand-in's AWS APIs will listen (aws fixture), and the keys clients sign with."""
    return Endpoints(f"http://127.0.0.1:{free_port()}", REGION, "STANDIN" + secrets.token_hex(6).upper(),
                     secrets.token_urlsafe(24))


@pytest.fixture(scope="package")
def prod_cfg() -> Config:
    """prod's config as the repository holds it (no overrides)."""
    return load_config(ENV, CONF_DIR, environ={})


def aws_client(endpoints: Endpoints, service: str):
    import boto3

    return boto3.client(service, endpoint_url=endpoints.aws_url, region_name=endpoints.region,
                        aws_access_key_id=endpoints.access_key, aws_secret_access_key=endpoints.secret_key)


def bucket_of(uri: str) -> str:
    return uri.split("/")[2]


@pytest.fixture(scope="package")
def sources(kafka_service, postgres_service) -> Sources:
    """Throwaway topics (prod's partition counts) and a database, filled; both removed afterwards."""
    from confluent_kafka.admin import AdminClient

    from lakehouse.kafka.client import client_config
    from lakehouse.kafka.topics import ensure_topics
    from lakehouse.services.postgres import PostgresServer

    topics = {contract: unique_name(f"deploy_{contract}") for contract in ("user_events", "transaction_events",
                                                                            "system_metrics")}
    local = local_config(*[f"streaming.topics.{contract}={topic}" for contract, topic in topics.items()])
    ensure_topics(local)
    database = unique_name("deploy")
    server = PostgresServer(local)
    with server.admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{database}" OWNER "{local.postgres.user}"')
    yield Sources(topics, database)
    with server.admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin = AdminClient(client_config(local))
    for future in admin.delete_topics(list(topics.values())).values():
        future.result(timeout=30)


def cluster_overrides(cfg: Config, sources: Sources) -> dict[str, str]:
    """What the stand-in cluster's drivers see differently from prod: endpoints and this run's sources."""
    local = local_config()
    overrides = {
        "kafka.bootstrap_servers": local.kafka.bootstrap_servers,
        "kafka.security_protocol": local.kafka.security_protocol,   # the local broker speaks plaintext
        "kafka.authentication": local.kafka.authentication,         # and signs nobody in
        "postgres.host": local.postgres.host,
        "postgres.port": str(local.postgres.port),
        "postgres.database": sources.database,
        "postgres.user": local.postgres.user,
        "postgres.sslmode": local.postgres.sslmode,                  # the local server has no TLS
        "lake.log_store": "default",          # EMR's delta-storage-s3-dynamodb jar is not on Maven Central
        "spark.shuffle_partitions": "4",      # prod's 64 is sized for prod's nodes; the stand-in has 2 cores
        "lineage.enabled": "false",           # no Marquez here (tests/integration/test_lineage.py checks lineage)
        **{f"streaming.topics.{contract}": topic for contract, topic in sources.topics.items()},
    }
    return {"LAKEHOUSE__" + key.upper().replace(".", "__"): value for key, value in overrides.items()}


def airflow_overrides(standin_python: str) -> dict[str, str]:
    """What Airflow (and the release build) sees differently from prod: the stand-in's nodes, polling."""
    overrides = {
        **{f"emr.cluster.{key}": value for key, value in STANDIN_INSTANCE_TYPES.items()},
        "emr.python_version": standin_python,
        "emr.poke_interval_s": "2",
        "airflow.daily_deadline_hours": "null",   # Airflow 3.3's dag.test() fails on a DAG with a deadline
        "lineage.enabled": "false",               # no Marquez here
    }
    return {"LAKEHOUSE__" + key.upper().replace(".", "__"): value for key, value in overrides.items()}


@pytest.fixture(scope="package")
def standin(tmp_path_factory, endpoints, prod_cfg, sources) -> EmrStandIn:
    """The EMR stand-in's YARN mini cluster and primary node."""
    node = start_standin(tmp_path_factory.mktemp("emr"), PROJECT_ROOT, endpoints,
                         cluster_overrides(prod_cfg, sources))
    yield node
    node.stop()


@pytest.fixture(scope="package")
def command_runner(standin, endpoints, prod_cfg, tmp_path_factory) -> StepLog:
    """moto's server and EMR's command runner (tests/deploy/aws_standin.py), with the buckets Terraform
    makes and prod's Postgres secret; returns the log of the steps run."""
    from lakehouse.services.process import port_open, wait_until

    logs = tmp_path_factory.mktemp("steps")
    standin.save(logs / "node.json")
    port = int(endpoints.aws_url.rsplit(":", 1)[1])
    command = [sys.executable, "-m", "tests.deploy.aws_standin", "--port", str(port), "--node",
               str(logs / "node.json"), "--logs", str(logs)]
    with open(logs / "aws_standin.log", "wb") as out:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_until(lambda: port_open("127.0.0.1", port), 60, "the AWS stand-in", process.pid,
                   logs / "aws_standin.log")
        password = local_config().postgres.password.resolve()
        secret_id, _, key = prod_cfg.postgres.password.name.partition("#")
        aws_client(endpoints, "secretsmanager").create_secret(Name=secret_id,
                                                              SecretString=json.dumps({key: password}))
        s3 = aws_client(endpoints, "s3")
        for uri in (prod_cfg.lake.root, prod_cfg.emr.artifacts_uri):
            s3.create_bucket(Bucket=bucket_of(uri), CreateBucketConfiguration={"LocationConstraint": REGION})
        yield StepLog(logs / "steps.jsonl")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def tool_environment(endpoints: Endpoints, standin: EmrStandIn) -> dict[str, str]:
    """CI's deploy step environment: prod, the stand-in's overrides and AWS endpoint; nothing local."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("LAKEHOUSE__", "AWS_", "PYSPARK_"))}
    return {**env, **endpoints.aws_environment(), **airflow_overrides(python_version(standin.python)),
            "LAKEHOUSE_ENV": ENV}


@pytest.fixture(scope="package")
def release(endpoints, standin, command_runner) -> subprocess.CompletedProcess:
    """`lakehouse-ship-artifacts --env prod`, as CI's deploy step runs it."""
    command = [str(Path(sys.executable).with_name("lakehouse-ship-artifacts")), "--env", ENV]
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=tool_environment(endpoints, standin),
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="package")
def airflow_prod(endpoints, standin, command_runner, airflow_db):  # noqa: F811  (the fixture imported above)
    """Airflow set up as prod's workers are, against the stand-ins: returns the DagBag's DAGs."""
    from tests.dags.conftest import load_dag_bag

    connection = {"conn_type": "aws", "login": endpoints.access_key, "password": endpoints.secret_key,
                  "extra": {"endpoint_url": endpoints.aws_url, "region_name": endpoints.region}}
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("AIRFLOW_CONN_AWS_PROD", json.dumps(connection))
        for name in [name for name in os.environ if name.startswith("AWS_")]:
            monkeypatch.delenv(name)
        overrides = {name[len("LAKEHOUSE__"):].lower(): value
                     for name, value in airflow_overrides(python_version(standin.python)).items()}
        bag = load_dag_bag(monkeypatch, ENV, **overrides)
        assert bag.import_errors == {}
        for dag in bag.dags.values():
            for task in dag.tasks:
                task.retries = 0  # a failure shows at once; retries are tests/orchestration's subject
        yield bag.dags


def lake_storage(endpoints: Endpoints) -> dict[str, str]:
    """deltalake's storage options for the lake on the stand-in's S3."""
    return {"AWS_ENDPOINT_URL": endpoints.aws_url, "AWS_REGION": endpoints.region, "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": endpoints.access_key, "AWS_SECRET_ACCESS_KEY": endpoints.secret_key}
