"""Job metrics, read back from moto's CloudWatch after real runs: bronze and silver over a real topic,
and a Postgres extract; and a CloudWatch outage that costs the job nothing."""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import re
import subprocess
import time

import pytest

from lakehouse.kafka.producer import EventProducer
from lakehouse.ops.metrics import MetricsPublisher, cloudwatch_client
from lakehouse.runtime.executables import venv_executable
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.silver import start_silver
from tests.conftest import PROJECT_ROOT, unique_name
from tests.integration.extract_support import extract_config, job_env, source_schema
from tests.integration.streaming_support import bronze_options, silver_options, stream_config

pytestmark = pytest.mark.usefixtures("s3_service")  # moto's server is also the CloudWatch endpoint

VALID = 20
MALFORMED = 4
MISSING_CURRENCY = 2


def transaction(number: int, **changes) -> bytes:
    at = dt.datetime.now(dt.timezone.utc).isoformat()
    record = {"transaction_id": f"tx-{number}", "user_id": "7", "amount": "12.50", "currency": "EUR",
              "status": "pending", "payment_method": "card", "merchant_category": "games",
              "transaction_timestamp": at, "created_at": at, "updated_at": at, "schema_version": "1.0", **changes}
    return json.dumps({k: v for k, v in record.items() if v is not None}).encode()


def with_namespace(cfg, namespace: str):
    return dataclasses.replace(cfg, metrics=dataclasses.replace(cfg.metrics, namespace=namespace,
                                                                 flush_interval_s=0.5))


def statistics(cfg, name: str, **dimensions: str) -> dict[str, float]:
    """Sum, Maximum, Minimum and SampleCount of one metric over the last hour (one period)."""
    now = dt.datetime.now(dt.timezone.utc)
    points = cloudwatch_client(cfg).get_metric_statistics(
        Namespace=cfg.metrics.namespace, MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in sorted(dimensions.items())],
        StartTime=now - dt.timedelta(hours=1), EndTime=now + dt.timedelta(minutes=5), Period=3900,
        Statistics=["Sum", "Maximum", "Minimum", "SampleCount"],
    )["Datapoints"]
    assert len(points) <= 1, points
    return points[0] if points else {"Sum": 0, "SampleCount": 0}


@pytest.mark.timeout(600)
def test_a_streaming_run_reports_rows_lag_quarantine_and_freshness(spark, tmp_path, new_topic):
    topic = new_topic(partitions=2, prefix="metrics")
    cfg = with_namespace(stream_config(tmp_path, {"transaction_events": topic}), unique_name("Test/metrics"))
    with EventProducer(cfg) as producer:
        for number in range(VALID):
            producer.send(topic, b"7", transaction(number))
        for number in range(MALFORMED):
            producer.send(topic, b"7", b'{"transaction_id": "bad-%d", "amount": ' % number)
        for number in range(MISSING_CURRENCY):
            producer.send(topic, b"7", transaction(100 + number, currency=None))
        producer.flush()
    produced = VALID + MALFORMED + MISSING_CURRENCY

    start_bronze(spark, cfg, bronze_options("transaction_events", max_offsets=10)).wait(until_all_done=True)
    start_silver(spark, cfg, silver_options("transaction_events", max_files=2)).wait(until_all_done=True)

    bronze = {"job": "kafka_to_bronze", "table": "bronze.transaction_events"}
    silver = {"job": "bronze_to_silver", "table": "silver.transactions"}
    assert statistics(cfg, "RowsIn", **bronze)["Sum"] == produced
    assert statistics(cfg, "RowsWritten", **bronze)["Sum"] == produced
    lag = statistics(cfg, "ConsumerLag", **bronze, topic=topic)
    assert lag["SampleCount"] >= 3, "one per bronze batch of at most 10 records"
    assert lag["Maximum"] >= produced - 10
    assert lag["Minimum"] == 0
    assert 0 <= statistics(cfg, "Freshness", **bronze)["Maximum"] < 600
    assert statistics(cfg, "BatchDuration", **bronze)["Minimum"] > 0

    assert statistics(cfg, "RowsIn", **silver)["Sum"] == produced
    assert statistics(cfg, "RowsWritten", **silver)["Sum"] == VALID
    assert statistics(cfg, "RowsQuarantined", **silver)["Sum"] == MALFORMED + MISSING_CURRENCY
    assert statistics(cfg, "RowsQuarantinedByReason", **silver, reason="malformed_json")["Sum"] == MALFORMED
    assert statistics(cfg, "RowsQuarantinedByReason", **silver, reason="missing_field")["Sum"] == MISSING_CURRENCY
    assert 0 <= statistics(cfg, "Freshness", **silver)["Maximum"] < 600

    status = lakehouse_status(cfg)
    bronze_row = status["bronze.transaction_events"]
    assert (bronze_row[1], bronze_row[4]) == ("kafka_to_bronze", "0"), "writer, and no lag after the catch-up"
    assert bronze_row[3].endswith(("s", "m")), "freshness"
    assert status["silver.transactions"][5].startswith("fail accepted_share at "), "6 of 26 quarantined"
    assert status["silver.transactions"][2] != "-", "its last commit"
    assert status["silver.users"][2:] == ["-"] * 5, "not written in this lake"

    failing = subprocess.run([venv_executable("lakehouse-postgres-extract", "pip install -e ."), *settings(cfg),
                              "--set", "postgres.database=no_such_database", "--tables", "orders"],
                             cwd=PROJECT_ROOT, env=job_env(), capture_output=True, text=True, timeout=300)
    assert failing.returncode == 1, failing.stderr[-2000:]
    assert lakehouse_status(cfg)["silver.orders"][6] != "-", "the extract's failure"


def settings(cfg) -> list[str]:
    topics = [arg for contract, topic in cfg.streaming.topics.items()
              for arg in ("--set", f"streaming.topics.{contract}={topic}")]
    return ["--env", "local", "--set", f"lake.root={cfg.lake.root}",
            "--set", f"metrics.namespace={cfg.metrics.namespace}", *topics]


def lakehouse_status(cfg) -> dict[str, list[str]]:
    """`lakehouse-status` on `cfg`'s lake and namespace: table -> its printed cells."""
    printed = subprocess.run([venv_executable("lakehouse-status", "pip install -e ."), *settings(cfg)],
                             cwd=PROJECT_ROOT, env=job_env(), capture_output=True, text=True, timeout=120, check=True)
    lines = printed.stdout.splitlines()
    assert lines[0].split()[:2] == ["table", "writer"], printed.stdout
    return {line.split()[0]: cells(line) for line in lines[1:]}


def cells(line: str) -> list[str]:
    """A row of the status table: cells are separated by two or more spaces."""
    return re.split(r"\s{2,}", line.strip())


@pytest.mark.timeout(600)
def test_a_producer_breaking_its_schema_crosses_the_quarantine_alarm_and_fails_the_quality_check(
        spark, tmp_path, new_topic):
    """The producer renames `amount`: every record is quarantined (none lost), the QuarantineRate the alarm
    watches goes above the alarm's threshold (infra/), and the batch's accepted_share check fails."""
    from deltalake import DeltaTable

    topic = new_topic(prefix="broken")
    cfg = with_namespace(stream_config(tmp_path, {"transaction_events": topic}), unique_name("Test/broken"))
    with EventProducer(cfg) as producer:
        for number in range(8):
            producer.send(topic, b"7", transaction(number, amount=None, amount_value="12.50"))
        producer.flush()

    start_bronze(spark, cfg, bronze_options("transaction_events")).wait(until_all_done=True)
    start_silver(spark, cfg, silver_options("transaction_events")).wait(until_all_done=True)

    silver = {"job": "bronze_to_silver", "table": "silver.transactions"}
    assert statistics(cfg, "QuarantineRate", **silver)["Maximum"] == 100
    assert statistics(cfg, "QuarantineRate", **silver)["Maximum"] > quarantine_alarm_threshold()
    assert statistics(cfg, "RowsQuarantinedByReason", **silver, reason="missing_field")["Sum"] == 8
    [check] = DeltaTable(cfg.lake.table_path("ops", "quality_results")).to_pyarrow_table().to_pylist()
    assert (check["table_name"], check["check_name"], check["status"]) == ("silver.transactions", "accepted_share",
                                                                           "fail")
    assert (check["rows_checked"], check["rows_failed"], check["fail_below"]) == (8, 8, 0.95)
    assert check["detail"] == "quarantined: missing_field=8"


def quarantine_alarm_threshold() -> float:
    from tests.infra.test_terraform import MODULE, unquote, variables

    return float(unquote(variables(MODULE)["alarm_quarantine_rate_percent"])["default"])


def test_an_extract_run_reports_rows_and_how_old_its_position_is(spark, cfg, postgres_service):
    with source_schema(cfg, users=5, orders=30) as schema:
        job = with_namespace(extract_config(cfg, schema, delay=0.5), unique_name("Test/metrics"))
        time.sleep(0.5)
        from lakehouse.extract.run import run

        [summary] = run(spark, job, argparse.Namespace(tables="orders", mode="incremental", since=None, until=None))

    orders = {"job": "postgres_extract", "table": f"silver.orders_{schema}", "mode": "incremental"}
    assert statistics(job, "RowsRead", **orders)["Sum"] == summary.rows_read == 30
    assert statistics(job, "RowsMerged", **orders)["Sum"] == 30
    age = (dt.datetime.now(dt.timezone.utc) - summary.new_position.cursor).total_seconds()
    assert statistics(job, "PositionAge", **orders)["Maximum"] == pytest.approx(age, abs=60)
    assert statistics(job, "HeldBack", **orders)["SampleCount"] == 1


def test_a_cloudwatch_outage_drops_metrics_with_a_count_and_never_blocks(caplog):
    import boto3
    from botocore.config import Config as BotoConfig

    def unreachable():  # a port nobody listens on
        return boto3.client("cloudwatch", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                            aws_access_key_id="x", aws_secret_access_key="x",
                            config=BotoConfig(connect_timeout=1, retries={"max_attempts": 1}))

    caplog.set_level(logging.WARNING, logger="lakehouse.ops.metrics")
    metrics = MetricsPublisher(unreachable, "Test/outage", max_queue=5, flush_interval_s=0.2)
    started = time.monotonic()
    for value in range(8):
        metrics.emit("RowsIn", value, job="test")
    emitting = time.monotonic() - started
    metrics.close(timeout_s=5)

    assert emitting < 0.1, "emit only queues"
    assert (metrics.sent, metrics.dropped) == (0, 8), "3 over the queue's bound, 5 refused by the endpoint"
    assert any("dropped" in record.getMessage() for record in caplog.records)


def test_a_failure_of_the_one_driver_job_shows_on_every_streaming_table(cfg):
    from lakehouse.ops.status import table_status
    from lakehouse.runtime.entrypoint import report_failure

    namespaced = with_namespace(cfg, unique_name("Test/status"))
    report_failure(namespaced, "kafka_to_silver")

    failed = {s.table: (s.job, s.last_failure is not None) for s in table_status(namespaced)}
    assert failed["bronze.user_events"] == ("kafka_to_bronze", True)
    assert failed["silver.transactions"] == ("bronze_to_silver", True)
    assert failed["silver.orders"] == ("postgres_extract", False)
