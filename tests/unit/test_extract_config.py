"""The extract's config section, the job's flags and the request they make."""
from __future__ import annotations

import argparse

import pytest

from lakehouse.config import ConfigError, load_config
from lakehouse.extract.run import ExtractError, ExtractRequest, select_tables
from lakehouse_jobs.batch.postgres_extract import add_arguments
from tests.conftest import CONF_DIR


def config_error(*overrides: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config("local", CONF_DIR, overrides, environ={})
    return str(info.value)


def test_the_shipped_tables_follow_the_silver_contract_and_each_environment_picks_its_guard():
    local = load_config("local", CONF_DIR, environ={})
    assert {name: (t.schema, t.table, t.primary_key, t.cursor_column, t.target_layer, t.target_name)
            for name, t in local.extract.tables.items()} == {
        "users": ("public", "users", ["user_id"], "updated_at", "silver", "users"),
        "orders": ("public", "orders", ["order_id"], "updated_at", "silver", "orders"),
    }
    assert local.extract.late_commit_guard == "in_flight"
    for env in ("dev", "prod"):  # read replicas: the primary's transactions are invisible there
        assert load_config(env, CONF_DIR, environ={}).extract.late_commit_guard == "delay"


@pytest.mark.parametrize(("override", "message"), [
    ("extract.tables.orders.target_name=../orders", "extract.tables.orders.target_name: must be lowercase"),
    ("extract.tables.orders.partition_column=null", "partition_column: required when num_partitions > 1"),
    ("extract.tables.orders.partition_lower=5", "set both partition_lower and partition_upper"),
    ("extract.tables.orders.fetch_size=0", "extract.tables.orders.fetch_size: must be at least 1"),
    ("extract.safety_delay_s=-1", "extract.safety_delay_s: must not be negative"),
    ("extract.late_commit_guard=xmin", "expected one of in_flight, delay"),
    ("landed_files.processing_time=soon", "expected an interval like '1 minute'"),
])
def test_bad_extract_settings_are_refused_on_load(override, message):
    assert message in config_error(override)


def test_tables_are_selected_by_name_or_all():
    extract = load_config("local", CONF_DIR, environ={}).extract
    assert select_tables(extract, "all") == ["users", "orders"]
    assert select_tables(extract, " orders ") == ["orders"]
    assert select_tables(extract, "orders,users") == ["orders", "users"]
    with pytest.raises(ExtractError, match=r"unknown table\(s\) \['payments'\]; configured: users, orders"):
        select_tables(extract, "orders,payments")


@pytest.mark.parametrize(("request_args", "message"), [
    ({"mode": "backfill"}, "needs --since"),
    ({"mode": "incremental", "since": "2024-01-01"}, "apply to --mode backfill only"),
    ({"mode": "reconcile", "until": "2024-01-01"}, "apply to --mode backfill only"),
    ({"mode": "merge"}, "unknown mode"),
])
def test_inconsistent_requests_are_refused(request_args, message):
    with pytest.raises(ExtractError, match=message):
        ExtractRequest(**request_args)


def test_the_job_flags_are_those_airflow_and_emr_steps_pass():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--tables", "orders", "--mode", "backfill", "--since", "2024-05-01",
                              "--until", "2024-05-02"])
    assert (args.tables, args.mode, args.since, args.until) == ("orders", "backfill", "2024-05-01", "2024-05-02")
    assert parser.parse_args([]).mode == "incremental"
    assert parser.parse_args([]).tables == "all"
    with pytest.raises(SystemExit):
        parser.parse_args(["--mode", "append"])
