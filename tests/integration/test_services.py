"""The service manager: idempotent start, status, and clear errors."""
from __future__ import annotations

import pytest

from lakehouse.services import stack
from lakehouse.services.kafka_broker import KafkaBroker
from lakehouse.services.process import ServiceError
from tests.conftest import local_config


def test_up_is_a_no_op_when_everything_already_runs(cfg, kafka_service, postgres_service, s3_service):
    assert stack.up(cfg) == []
    assert all(stack.status(cfg).values())


def test_a_port_held_by_another_service_fails_clearly(cfg, kafka_service, tmp_path):
    # A second broker configured on the port of the running one must refuse to start.
    other = local_config(f"services.state_dir={tmp_path}/state")
    with pytest.raises(ServiceError, match="port 19092 is taken by another program"):
        KafkaBroker(other).start()


def test_missing_broker_jars_say_how_to_get_them(tmp_path):
    broker = KafkaBroker(local_config(f"services.kafka_jars_dir={tmp_path}", "kafka.bootstrap_servers=127.0.0.1:1"))
    with pytest.raises(ServiceError, match=r"run `make jars`"):
        broker.start()


def test_unknown_service_names_are_rejected(cfg):
    with pytest.raises(ValueError, match="unknown service"):
        stack.up(cfg, ["zookeeper"])


def test_stopping_an_empty_selection_stops_nothing(cfg, kafka_service):
    assert stack.down(cfg, []) == []
    assert stack.status(cfg, ["kafka"]) == {KafkaBroker(cfg).describe(): True}
