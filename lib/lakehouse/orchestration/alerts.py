"""Failure and deadline alerts: e-mail, Slack and PagerDuty when their Airflow connections exist.

Each channel is an Airflow connection id from the config (airflow.*_conn_id); a channel whose
connection is missing is skipped, and when no channel is reachable the alert is logged at
ERROR level, so an alert is never lost silently. Slack uses an incoming webhook (the URL, or
host + token path, in the connection's password/host); PagerDuty uses Events API v2 with the
routing key as the connection's password (its host may point at another endpoint).
"""
from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from airflow.sdk import BaseHook, BaseNotifier
from airflow.sdk.exceptions import AirflowNotFoundException

log = logging.getLogger(__name__)

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
TIMEOUT_S = 10


@dataclass(frozen=True)
class AlertChannels:
    """Where alerts go: connection ids (None turns a channel off) and the e-mail recipients."""

    emails: list[str] = field(default_factory=list)
    smtp_conn_id: Optional[str] = None
    slack_conn_id: Optional[str] = None
    pagerduty_conn_id: Optional[str] = None


@dataclass(frozen=True)
class Alert:
    summary: str
    details: dict[str, str]
    dedup_key: str


def task_failure_alert(context: Any) -> Alert:
    ti = context["ti"]
    dag_id, task_id, run_id = ti.dag_id, ti.task_id, context.get("run_id", "")
    details = {
        "dag_id": dag_id, "task_id": task_id, "run_id": run_id,
        "try_number": str(getattr(ti, "try_number", "")),
        "error": str(context.get("exception") or ""),
        "log_url": str(getattr(ti, "log_url", "")),
    }
    return Alert(f"Airflow task failed: {dag_id}.{task_id} ({run_id})", details, f"{dag_id}.{task_id}.{run_id}")


def send_alert(alert: Alert, channels: AlertChannels) -> list[str]:
    """Sends `alert` to every channel whose connection exists; returns the channels reached."""
    senders = [(channels.slack_conn_id, _send_slack), (channels.pagerduty_conn_id, _send_pagerduty)]
    if channels.emails:
        senders.append((channels.smtp_conn_id, _send_email))
    reached = []
    for conn_id, send in senders:
        connection = _connection(conn_id)
        if connection is None:
            continue
        try:
            send(alert, connection, channels)
            reached.append(conn_id)
        except Exception:
            log.exception("alert channel %s failed", conn_id)
    if not reached:
        log.error("ALERT (no alert channel reachable): %s %s", alert.summary, json.dumps(alert.details))
    return reached


class FailureAlertNotifier(BaseNotifier):
    """on_failure_callback of every lakehouse task (see airflow/dags/lakehouse_dag_settings.py)."""

    def __init__(self, channels: AlertChannels):
        super().__init__()
        self.channels = channels

    def notify(self, context: Any) -> None:
        send_alert(task_failure_alert(context), self.channels)


async def deadline_missed(context: Optional[dict] = None, **channels: Any) -> list[str]:
    """DeadlineAlert callback (runs in the triggerer): the DAG run is late."""
    from asgiref.sync import sync_to_async

    dag_run = (context or {}).get("dag_run") or {}
    dag_id = dag_run.get("dag_id", "?") if isinstance(dag_run, dict) else getattr(dag_run, "dag_id", "?")
    run_id = dag_run.get("run_id", "?") if isinstance(dag_run, dict) else getattr(dag_run, "run_id", "?")
    alert = Alert(f"Airflow DAG run missed its deadline: {dag_id} ({run_id})",
                  {"dag_id": str(dag_id), "run_id": str(run_id)}, f"{dag_id}.{run_id}.deadline")
    return await sync_to_async(send_alert)(alert, AlertChannels(**channels))


def channels_kwargs(channels: AlertChannels) -> dict:
    """The channels as plain kwargs for a serialized callback (DeadlineAlert)."""
    return asdict(channels)


def _connection(conn_id: Optional[str]):
    if not conn_id:
        return None
    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def _post_json(url: str, body: dict) -> None:
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"refusing to post an alert to {url!r}: not an http(s) URL")
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        response.read()


def _send_slack(alert: Alert, connection, channels: AlertChannels) -> None:
    secret = connection.password or ""
    if secret.startswith(("https://", "http://")):
        url = secret
    else:
        url = f"{connection.schema or 'https'}://{(connection.host or 'hooks.slack.com/services').strip('/')}/{secret}"
    lines = [f"*{alert.summary}*"] + [f"{key}: {value}" for key, value in alert.details.items() if value]
    _post_json(url, {"text": "\n".join(lines)})


def _send_pagerduty(alert: Alert, connection, channels: AlertChannels) -> None:
    routing_key = connection.password or connection.extra_dejson.get("routing_key", "")
    _post_json(connection.host or PAGERDUTY_EVENTS_URL, {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": alert.dedup_key,
        "payload": {"summary": alert.summary, "source": "airflow", "severity": "error",
                    "custom_details": alert.details},
    })


def _send_email(alert: Alert, connection, channels: AlertChannels) -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    body = "".join(f"<p><b>{key}</b>: {value}</p>" for key, value in alert.details.items())
    with SmtpHook(smtp_conn_id=connection.conn_id) as hook:
        hook.send_email_smtp(to=channels.emails, subject=alert.summary, html_content=body)
