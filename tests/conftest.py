"""Shared fixtures: one local config, one SparkSession, and the real local services.

Service fixtures start a service only when it is not already running (for example after
`make services-up`) and stop at the end of the session only what they started themselves.
"""
from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path

import pytest

from lakehouse.config import Config, load_config
from lakehouse.services import stack
from lakehouse.spark.session import SHORT_LIVED_JVM_OPTIONS

pytest_plugins = ["tests.tiers", "tests.interrupt"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = PROJECT_ROOT / "conf"

# The Spark drivers tests start as processes (jobs, spark-submit, the DAGs' tasks) live seconds: with C1
# alone a driver starts about twice as fast (a job on an empty lake here: 14-16 s -> 7-9 s), given a
# code cache of its size (SHORT_LIVED_JVM_OPTIONS). Inherited by every process a test starts; the one
# in-process session outlives them all and keeps both JIT compilers.
SHORT_LIVED_DRIVERS = ("SPARK_SUBMIT_OPTS", SHORT_LIVED_JVM_OPTIONS)
os.environ.setdefault(*SHORT_LIVED_DRIVERS)

# Spark's sessions run in UTC (spark.sql.session.timeZone) but PySpark turns naive datetimes into
# timestamps, and back, in the Python process's own zone: the tests' expected rows hold UTC times, so on a
# machine set to another zone they would fail (and date checks only at some hours). Inherited by every
# process a test starts, the JVMs included.
os.environ["TZ"] = "UTC"
time.tzset()


def local_config(*overrides: str) -> Config:
    """The local environment's config with `overrides`, ignoring LAKEHOUSE__* variables."""
    return load_config("local", CONF_DIR, overrides, environ={})


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def lake_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("lake")


@pytest.fixture(scope="session")
def cfg(lake_dir) -> Config:
    """Local config with the lake and checkpoints in a temporary folder."""
    return local_config(
        f"lake.root={lake_dir}/tables",
        f"lake.checkpoint_root={lake_dir}/checkpoints",
        "spark.shuffle_partitions=2",
        "spark.driver_memory=2g",
    )


@pytest.fixture(scope="session")
def spark(cfg, s3_service):
    """The one SparkSession of the test run; it needs the S3 endpoint's generated keys for S3A."""
    from lakehouse.spark import build_spark

    with pytest.MonkeyPatch.context() as env:
        name, value = SHORT_LIVED_DRIVERS
        if os.environ.get(name) == value:
            env.delenv(name)
        session = build_spark(cfg, "tests")
    yield session
    session.stop()
    # py4j closes its connection at interpreter exit and logs it; by then the handlers that tests
    # installed (Airflow's, the jobs') may write to streams pytest already closed.
    logging.getLogger("py4j").setLevel(logging.ERROR)


def _run_service(cfg: Config, name: str):
    started = stack.up(cfg, [name])
    yield
    if started:
        stack.down(cfg, started)


@pytest.fixture(scope="session")
def kafka_service(cfg):
    yield from _run_service(cfg, "kafka")


@pytest.fixture(scope="session")
def postgres_service(cfg):
    yield from _run_service(cfg, "postgres")


@pytest.fixture(scope="session")
def s3_service(cfg):
    yield from _run_service(cfg, "s3")


@pytest.fixture
def new_topic(cfg, kafka_service):
    """Factory for throwaway topics with unique names, deleted after the test."""
    from confluent_kafka.admin import AdminClient, NewTopic

    from lakehouse.kafka.client import client_config

    admin = AdminClient(client_config(cfg))
    created = []

    def create(partitions: int = 1, prefix: str = "test") -> str:
        name = unique_name(prefix)
        admin.create_topics([NewTopic(name, partitions, 1)])[name].result(timeout=30)
        created.append(name)
        return name

    yield create
    if created:
        for future in admin.delete_topics(created).values():
            future.result(timeout=30)
