"""infra/modules/lakehouse/alarms.tf against what the jobs send and what the config says: every alarm on the
jobs' namespace watches a metric the code emits, with the dimensions and values the code uses; the namespace
and recipients are the environment's; every alarm pages through the one SNS topic."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from lakehouse.config import load_config
from lakehouse.extract.position import Position
from lakehouse.extract.summary import RunSummary
from lakehouse.schemas import CONTRACTS
from lakehouse.streaming.tables import BRONZE_JOB, SILVER_JOB
from tests.conftest import CONF_DIR, PROJECT_ROOT
from tests.infra.test_terraform import MODULE, resources, tfvars, unquote, variables

ALARMS = resources(MODULE)["aws_cloudwatch_metric_alarm"]
ON_THE_JOBS = {name: alarm for name, alarm in ALARMS.items() if alarm.get("namespace") == "${var.metrics_namespace}"}


def emitted_metric_names() -> set[str]:
    """Metric names the library sends: each `emit("Name", ...)`, and the figures of an extract run."""
    source = "\n".join(path.read_text() for path in (PROJECT_ROOT / "lib" / "lakehouse").rglob("*.py"))
    now = dt.datetime.now(dt.timezone.utc)
    run = RunSummary("orders", "reconcile", new_position=Position(now, (1,)), upper_bound=now, hard_deletes=0,
                     not_yet_extracted=0)
    return set(re.findall(r'emit\(\s*"([A-Za-z]+)"', source)) | {name for name, _, _ in run.figures()}


def test_the_alarms_cover_lag_freshness_quarantine_no_data_msk_lake_and_failed_steps():
    assert set(ON_THE_JOBS) == {"consumer_lag", "silver_freshness", "quarantine_rate", "no_data"}
    assert {"broker_cpu", "broker_disk", "lake_growth"} <= set(ALARMS)
    rule = resources(MODULE)["aws_cloudwatch_event_rule"]["emr_step_failed"]
    assert "EMR Step Status Change" in rule["event_pattern"]
    assert resources(MODULE)["aws_cloudwatch_event_target"]["emr_step_failed"]["arn"] == "${aws_sns_topic.alarms.arn}"


def test_every_alarm_pages_through_the_encrypted_alarm_topic():
    for name, alarm in ALARMS.items():
        assert alarm["alarm_actions"] == "${local.alarm_actions}", name
    topic = resources(MODULE)["aws_sns_topic"]["alarms"]
    assert topic["kms_master_key_id"] == "${aws_kms_key.lakehouse.arn}"


def test_alarms_on_the_jobs_watch_metrics_the_jobs_send_with_their_dimensions():
    emitted = emitted_metric_names()
    assert {"RowsIn", "ConsumerLag", "Freshness", "QuarantineRate", "PositionAge"} <= emitted
    for name, alarm in ON_THE_JOBS.items():
        assert alarm["metric_name"] in emitted, name
        dimensions = alarm["dimensions"]
        assert dimensions["job"] in (BRONZE_JOB, SILVER_JOB), name
        layer = "bronze" if dimensions["job"] == BRONZE_JOB else "silver"
        assert dimensions["table"] == f"{layer}.${{each.key}}", name
        if "topic" in dimensions:
            assert dimensions["topic"] == "${each.key}", name


def test_the_alarmed_tables_and_topics_are_the_streams():
    source = (MODULE / "alarms.tf").read_text()
    silver = re.search(r"alarm_silver\s*=\s*toset\(\[([^\]]*)\]\)", source).group(1)
    assert sorted(re.findall(r'"([a-z_]+)"', silver)) == sorted(c.silver_table for c in CONTRACTS.values())
    assert re.search(r"alarm_topics\s*=\s*toset\(var\.kafka_topics\)", source)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_namespace_and_recipients_are_the_environments(env):
    cfg = load_config(env, CONF_DIR)
    values = tfvars(env)
    assert values["metrics_namespace"] == cfg.metrics.namespace
    assert values["alarm_emails"] == cfg.airflow.alert_emails
    # bronze.<topic>: the alarms name bronze tables after the topics, which are named after the contracts
    assert cfg.streaming.topics == {name: name for name in CONTRACTS}
    assert sorted(values["kafka_topics"]) == sorted(cfg.streaming.topics.values())


def test_the_quarantine_rate_alarm_fires_where_the_quality_check_fails():
    cfg = load_config("prod", CONF_DIR)
    threshold = unquote(variables(MODULE)["alarm_quarantine_rate_percent"])["default"]
    assert threshold == pytest.approx(100 * (1 - cfg.quality.accepted_share.fail_below))
