"""Failure and deadline alerts reach Slack and PagerDuty (a real HTTP server standing in for both)
when their Airflow connections exist, and are logged when none does."""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lakehouse.orchestration.alerts import (
    AlertChannels,
    FailureAlertNotifier,
    channels_kwargs,
    deadline_missed,
    send_alert,
    task_failure_alert,
)


@pytest.fixture
def receiver():
    """An HTTP server recording (path, JSON body) of every POST."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()


@pytest.fixture
def connections(monkeypatch, receiver):
    port, _ = receiver
    monkeypatch.setenv("AIRFLOW_CONN_TEST_SLACK", json.dumps(
        {"conn_type": "http", "schema": "http", "host": f"127.0.0.1:{port}", "password": "T000/B000/secret"}))
    monkeypatch.setenv("AIRFLOW_CONN_TEST_PAGERDUTY", json.dumps(
        {"conn_type": "http", "host": f"http://127.0.0.1:{port}/v2/enqueue", "password": "routing-key-1"}))
    return AlertChannels(slack_conn_id="test_slack", pagerduty_conn_id="test_pagerduty",
                         smtp_conn_id="test_smtp_missing", emails=["data-alerts@company.com"])


class FakeTaskInstance:
    dag_id, task_id, try_number, log_url = "daily_warehouse_build", "build_warehouse", 3, "http://airflow/log"


def failure_context() -> dict:
    return {"ti": FakeTaskInstance(), "run_id": "scheduled__2026-11-25T02:00:00+00:00",
            "exception": RuntimeError("dbt test failed: not_null_fct_orders_order_id")}


def test_a_task_failure_reaches_slack_and_pagerduty(connections, receiver):
    _, received = receiver
    FailureAlertNotifier(connections)(failure_context())
    by_path = dict(received)
    assert set(by_path) == {"/T000/B000/secret", "/v2/enqueue"}
    slack = by_path["/T000/B000/secret"]["text"]
    assert slack.startswith(
        "*Airflow task failed: daily_warehouse_build.build_warehouse (scheduled__2026-11-25T02:00:00+00:00)*")
    assert "error: dbt test failed: not_null_fct_orders_order_id" in slack
    page = by_path["/v2/enqueue"]
    assert page["routing_key"] == "routing-key-1"
    assert page["event_action"] == "trigger"
    assert page["dedup_key"] == "daily_warehouse_build.build_warehouse.scheduled__2026-11-25T02:00:00+00:00"
    assert page["payload"]["severity"] == "error"
    assert page["payload"]["custom_details"]["try_number"] == "3"


def test_without_any_channel_connection_the_alert_is_logged(caplog):
    channels = AlertChannels(slack_conn_id="absent_slack", pagerduty_conn_id=None, smtp_conn_id="absent_smtp",
                             emails=["x@company.com"])
    with caplog.at_level(logging.ERROR, logger="lakehouse.orchestration.alerts"):
        reached = send_alert(task_failure_alert(failure_context()), channels)
    assert reached == []
    (record,) = [r for r in caplog.records if r.name == "lakehouse.orchestration.alerts"]
    assert record.levelno == logging.ERROR
    assert "ALERT (no alert channel reachable): Airflow task failed: daily_warehouse_build.build_warehouse" in (
        record.getMessage())


def test_a_channel_that_fails_does_not_stop_the_others(connections, receiver, monkeypatch):
    _, received = receiver
    monkeypatch.setenv("AIRFLOW_CONN_TEST_SLACK", json.dumps(
        {"conn_type": "http", "schema": "ftp", "host": "example.invalid", "password": "x"}))  # refused, offline
    reached = send_alert(task_failure_alert(failure_context()), connections)
    assert reached == ["test_pagerduty"]
    assert [path for path, _ in received] == ["/v2/enqueue"]


def test_a_missed_deadline_is_alerted_from_the_triggerer(connections, receiver):
    _, received = receiver
    kwargs = channels_kwargs(connections)
    json.dumps(kwargs)  # the callback's kwargs are stored serialized with the DAG
    context = {"dag_run": {"dag_id": "daily_warehouse_build", "run_id": "scheduled__2026-11-25T02:00:00+00:00"}}
    reached = asyncio.run(deadline_missed(context=context, **kwargs))
    assert sorted(reached) == ["test_pagerduty", "test_slack"]
    slack = dict(received)["/T000/B000/secret"]["text"]
    assert "missed its deadline: daily_warehouse_build (scheduled__2026-11-25T02:00:00+00:00)" in slack
