"""Where a run may stop: the late-commit-safe upper bound and the end position below it.

The hazard: a transaction that started at time s writes rows whose cursor is about s (`now()`
is the transaction's start time), but commits later. While it is open its rows are invisible;
a run that moves the position past s loses them for good once it commits.

The guarantee we rely on: every row a transaction writes has cursor >= its start - safety_delay
(true for `DEFAULT now()` or a trigger; the delay also absorbs application clocks and the
instant between a statement's arrival and its transaction showing in pg_stat_activity).

`in_flight` guard (on the primary): U = least(now(), oldest xact_start of any open transaction
in this database) - safety_delay. Any transaction still able to commit started after U +
safety_delay, so it can only write cursors >= U; every committed row below U is visible to the
reads that follow. It needs to see every session's xact_start: the extract role must own the
writers' sessions or hold pg_read_all_stats (pg_monitor); a hidden session fails the run
instead of being ignored. Idle-in-transaction sessions hold the bound back (never unsafe).
2PC transactions do not reveal their start, so while one is prepared nothing new is read.

Why not pg_current_snapshot()'s xmin: a transaction gets an xid only at its first write, but its
`now()` is fixed at BEGIN, so one that has begun and not yet written is in no snapshot's xip list
while it can still write an old cursor value; xact_start covers it.

`delay` guard (any server, and the only choice on a physical replica, where the primary's
sessions are invisible): U = least(now(), last replayed commit time on a standby) -
safety_delay, safe only when no transaction lasts longer than safety_delay on the primary
(enforce that with transaction_timeout or idle_in_transaction_session_timeout there).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional

from lakehouse.extract.identifiers import SourceTable
from lakehouse.extract.literals import TIMESTAMPTZ
from lakehouse.extract.position import Position, position_of
from lakehouse.extract.window import Window, bound_predicate

IN_FLIGHT_SQL = """
SELECT now(), pg_is_in_recovery(),
       (SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()),
       (SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()
           AND usesysid IS NOT NULL AND query = '<insufficient privilege>'),
       oldest.xact_start, oldest.pid, oldest.usename, oldest.application_name, oldest.state
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT xact_start, pid, usename::text, application_name, state FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
    ORDER BY xact_start LIMIT 1
) AS oldest ON true
"""
DELAY_SQL = "SELECT now(), pg_is_in_recovery(), pg_last_xact_replay_timestamp()"


class LateCommitGuardError(RuntimeError):
    """The guard cannot see what it needs to bound late commits; nothing was read."""


@dataclass(frozen=True)
class UpperBound:
    """Rows with a cursor below `value` are all visible now, and no open transaction can add one.

    Attributes:
        value: aware UTC; None when nothing may be read yet (see `held_back_by`).
        server_now: the server's clock when the bound was taken.
        held_back_by: what kept the bound below now() - safety_delay, for the run summary.
    """

    value: Optional[dt.datetime]
    server_now: dt.datetime
    held_back_by: Optional[str] = None


def upper_bound(conn, guard: str, safety_delay_s: float) -> UpperBound:
    """Takes the bound with one statement (one consistent sample of pg_stat_activity)."""
    delay = dt.timedelta(seconds=safety_delay_s)
    if guard == "delay":
        return delay_bound(*conn.execute(DELAY_SQL).fetchone(), delay=delay)
    if guard == "in_flight":
        return in_flight_bound(*conn.execute(IN_FLIGHT_SQL).fetchone(), delay=delay)
    raise ValueError(f"unknown late_commit_guard {guard!r}")


def in_flight_bound(now, in_recovery, prepared, hidden, oldest, pid, user, app, state, *,
                    delay: dt.timedelta) -> UpperBound:
    """The `in_flight` bound from one row of IN_FLIGHT_SQL."""
    if in_recovery:
        raise LateCommitGuardError(
            "late_commit_guard in_flight cannot work on a standby: the primary's open transactions are "
            "invisible there; point the extract at the primary, or use late_commit_guard: delay"
        )
    if hidden:
        raise LateCommitGuardError(
            f"{hidden} session(s) in this database hide their transaction start from this role, so late "
            "commits cannot be bounded; grant it pg_read_all_stats (or pg_monitor), or use late_commit_guard: delay"
        )
    if prepared:
        return UpperBound(None, now, f"{prepared} prepared (2PC) transaction(s) of unknown start")
    if oldest is None or oldest >= now:
        return UpperBound(now - delay, now)
    return UpperBound(oldest - delay, now, f"pid {pid} ({user}, {app!r}, {state}) in a transaction since {oldest}")


def delay_bound(now, in_recovery, replayed, *, delay: dt.timedelta) -> UpperBound:
    """The `delay` bound from one row of DELAY_SQL; on a standby, also below the last replayed commit."""
    if not in_recovery:
        return UpperBound(now - delay, now)
    if replayed is None:
        return UpperBound(None, now, "standby has replayed no transaction since it started")
    held = f"standby replay lag: last replayed commit at {replayed.isoformat()}" if replayed < now else None
    return UpperBound(min(now, replayed) - delay, now, held)


def end_position(conn, table: SourceTable, after: Optional[Position], bound: UpperBound, limit: Optional[int],
                 cursor_offset: dt.timedelta = dt.timedelta(0)) -> tuple[Optional[Position], bool]:
    """The last row after `after` and below the bound, at most `limit` rows on; and whether more wait.

    The new position is a real row, found with an index scan on (cursor, key): the data read
    next is exactly the rows between the two positions. A `timestamp` cursor is compared with the
    bound on its writers' wall clock, `cursor_offset` from UTC (extract.cursor_zone).
    """
    from psycopg import sql

    if bound.value is None:
        return None, False
    if table.type_of(table.cursor) == TIMESTAMPTZ:
        below = bound.value
    else:
        below = (bound.value + cursor_offset).replace(tzinfo=None)
    where, params = bound_predicate(Window(after=after, cursor_before=below), table)
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.position_columns)
    ascending = columns
    descending = sql.SQL(", ").join(sql.SQL("{} DESC").format(sql.Identifier(c)) for c in table.position_columns)
    source = sql.Identifier(table.schema, table.table)
    if limit is None:
        query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT 1").format(columns, source, where, descending)
    else:
        query = sql.SQL(
            "SELECT {c} FROM (SELECT {c} FROM {t} WHERE {w} ORDER BY {a} LIMIT %s) AS w ORDER BY {d} LIMIT 1"
        ).format(c=columns, t=source, w=where, a=ascending, d=descending)
        params = [*params, limit]
    row = conn.execute(query, params).fetchone()
    if row is None:
        return None, False
    end = position_of(tuple(row), table)
    more = limit is not None and has_rows(conn, table, Window(after=end, cursor_before=below))
    return end, more


def has_rows(conn, table: SourceTable, window: Window) -> bool:
    from psycopg import sql

    where, params = bound_predicate(window, table)
    query = sql.SQL("SELECT 1 FROM {} WHERE {} LIMIT 1").format(sql.Identifier(table.schema, table.table), where)
    return conn.execute(query, params).fetchone() is not None


def partition_range(conn, table: SourceTable, window: Window) -> Optional[tuple[int, int]]:
    """min and max of the partition column inside the window, so partitions split what is read."""
    from psycopg import sql

    where, params = bound_predicate(window, table)
    column = sql.Identifier(table.partition_column)
    query = sql.SQL("SELECT min({c}), max({c}) FROM {t} WHERE {w}").format(
        c=column, t=sql.Identifier(table.schema, table.table), w=where)
    low, high = conn.execute(query, params).fetchone()
    return None if low is None else (int(low), int(high))
