"""The erasure's request checks, retention arithmetic, table list and dbt selectors (no Spark)."""
from __future__ import annotations

import datetime as dt

import pytest
import yaml

from lakehouse.erasure.job import ErasureError, make_request
from lakehouse.erasure.retention import parse_interval, unrecoverable_after
from lakehouse.erasure.targets import DBT_SOURCES, erasure_targets
from tests.conftest import PROJECT_ROOT, local_config


def test_a_request_keeps_each_id_once_and_refuses_anything_but_user_ids():
    assert make_request(["7", " 7", "12"], "dpo").user_ids == ("7", "12")
    for bad in (["07"], ["0"], ["1 OR 1=1"], ["'1'"], []):
        with pytest.raises(ErasureError):
            make_request(bad, "dpo")
    with pytest.raises(ErasureError, match="requested-by"):
        make_request(["7"], " ")


@pytest.mark.parametrize(("text", "hours"), [
    ("interval 1 week", 168), ("interval 7 days", 168), ("INTERVAL 36 hours", 36),
    ("interval 1 day 12 hours", 36), ("interval 90 minutes", 1.5),
])
def test_the_retention_delta_writes_is_read_as_a_duration(text, hours):
    assert parse_interval(text) == dt.timedelta(hours=hours)


def test_an_unreadable_retention_is_an_error_not_a_guess():
    with pytest.raises(ValueError, match="cannot read"):
        parse_interval("interval 2 fortnights")


def test_erased_files_become_unrecoverable_one_retention_after_the_erasure():
    at = dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc)
    assert unrecoverable_after(at, "interval 1 week") == dt.datetime(2026, 1, 8, 12, tzinfo=dt.timezone.utc)


def test_every_table_holding_people_is_a_target_and_no_other():
    targets = {t.name: (t.column, t.raw, t.append_only) for t in erasure_targets(local_config())}
    assert targets == {
        "bronze.user_events": ("user_id", True, True), "bronze.transaction_events": ("user_id", True, True),
        "quarantine.user_events": ("user_id", True, False),
        "quarantine.transaction_events": ("user_id", True, False),
        "silver.user_events": ("user_id", False, False), "silver.transactions": ("user_id", False, False),
        "silver.fraud_review": ("user_id", False, False),
        "silver.users": ("user_id", False, False), "silver.orders": ("customer_id", False, False),
    }


def test_each_dbt_selector_names_the_source_reading_that_silver_table():
    sources = yaml.safe_load((PROJECT_ROOT / "dbt/models/staging/_sources.yml").read_text())["sources"]
    reads = {table["config"]["meta"]["delta_table_path"].rsplit("/silver/", 1)[1]: f"{source['name']}.{table['name']}"
             for source in sources for table in source["tables"]}
    for silver, selector in DBT_SOURCES.items():
        assert selector == f"source:{reads[silver.split('.')[1]]}+"


def test_the_job_takes_ids_from_flags_and_a_file_skipping_blanks_and_comments(tmp_path):
    import argparse

    from lakehouse.erasure.job import add_arguments, request_from

    ids = tmp_path / "ids.txt"
    ids.write_text("# ticket 1234\n12\n\n13  # second person\n7\n")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--user-id", "7", "--ids-file", str(ids), "--requested-by", "dpo",
                              "--request-id", "TICKET-1234"])
    request = request_from(args)
    assert (request.user_ids, request.requested_by, request.request_id) == (("7", "12", "13"), "dpo", "TICKET-1234")
    with pytest.raises(SystemExit):
        parser.parse_args(["--user-id", "7"])  # --requested-by is required
