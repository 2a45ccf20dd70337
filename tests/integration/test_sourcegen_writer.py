"""The live source writer (lakehouse.sourcegen.writer) on the real Postgres: the rows it writes."""
from __future__ import annotations

import datetime as dt
import os
import time

import pytest

from lakehouse.sourcegen.writer import ConcurrentWriter
from tests.integration.extract_support import source_schema, writer

pytestmark = pytest.mark.usefixtures("postgres_service")
SEEDED_ORDERS = 100


@pytest.fixture
def local_date_is_not_utcs():
    """The process's time zone set so that its local date is not the UTC date: UTC-12 before noon UTC
    (yesterday there), UTC+14 after (tomorrow there)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Etc/GMT+12" if dt.datetime.now(dt.timezone.utc).hour < 12 else "Etc/GMT-14"
    time.tzset()
    try:
        assert dt.date.today() != dt.datetime.now(dt.timezone.utc).date()
        yield
    finally:
        if before is None:
            os.environ.pop("TZ")
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_a_new_order_is_dated_by_the_utc_day_it_was_created(cfg, local_date_is_not_utcs):
    with source_schema(cfg, orders=SEEDED_ORDERS) as schema:
        with ConcurrentWriter(cfg.postgres, schema, seed=3, max_hold_s=0.01) as live:
            deadline = time.monotonic() + 60
            while live.stats.inserts < 5 and time.monotonic() < deadline:
                time.sleep(0.05)
        with writer(cfg) as conn:
            dates = conn.execute(
                f"SELECT order_date, (created_at AT TIME ZONE 'UTC')::date FROM \"{schema}\".orders "
                "WHERE order_id > %s", (SEEDED_ORDERS,)).fetchall()
    assert len(dates) >= 5
    assert [order_date for order_date, _ in dates] == [created for _, created in dates]
