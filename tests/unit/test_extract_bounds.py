"""The late-commit guard's decisions, from the rows its one query returns (the query itself runs in
tests/integration/test_postgres_incremental.py against a real open transaction)."""
from __future__ import annotations

import datetime as dt

import pytest

from lakehouse.extract.bounds import LateCommitGuardError, delay_bound, in_flight_bound

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
DELAY = dt.timedelta(seconds=5)


def in_flight(oldest=None, prepared=0, hidden=0, in_recovery=False):
    return in_flight_bound(NOW, in_recovery, prepared, hidden, oldest, 4242, "app", "checkout", "idle in transaction",
                           delay=DELAY)


def test_without_open_transactions_the_bound_is_now_minus_the_delay():
    bound = in_flight()
    assert (bound.value, bound.held_back_by) == (NOW - DELAY, None)


def test_the_oldest_open_transaction_holds_the_bound_back_and_is_named():
    started = NOW - dt.timedelta(minutes=10)
    bound = in_flight(oldest=started)
    assert bound.value == started - DELAY
    assert bound.held_back_by == f"pid 4242 (app, 'checkout', idle in transaction) in a transaction since {started}"


def test_a_transaction_that_started_after_this_statement_does_not_move_the_bound():
    assert in_flight(oldest=NOW + dt.timedelta(milliseconds=3)).value == NOW - DELAY


def test_a_prepared_transaction_of_unknown_start_stops_all_reading():
    bound = in_flight(oldest=NOW - dt.timedelta(seconds=1), prepared=2)
    assert bound.value is None
    assert "2 prepared" in bound.held_back_by


def test_sessions_hidden_from_the_role_fail_the_run_instead_of_being_ignored():
    with pytest.raises(LateCommitGuardError, match="grant it pg_read_all_stats"):
        in_flight(hidden=1)


def test_the_in_flight_guard_refuses_a_standby():
    with pytest.raises(LateCommitGuardError, match="standby"):
        in_flight(in_recovery=True)


def test_the_delay_guard_on_a_primary_is_now_minus_the_delay():
    assert delay_bound(NOW, False, None, delay=DELAY).value == NOW - DELAY


def test_the_delay_guard_on_a_lagging_standby_stays_below_the_last_replayed_commit():
    replayed = NOW - dt.timedelta(minutes=2)
    bound = delay_bound(NOW, True, replayed, delay=DELAY)
    assert bound.value == replayed - DELAY
    assert "replay lag" in bound.held_back_by
    assert delay_bound(NOW, True, None, delay=DELAY).value is None
