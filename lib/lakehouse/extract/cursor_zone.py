"""A `timestamp without time zone` cursor: the wall clock its values follow, checked before a run.

The late-commit guard bounds server time (an instant). A `timestamp` column holds wall-clock times
of the TimeZone of the session that wrote them (`DEFAULT now()`, a trigger): writers five hours
behind UTC write values five hours below the instant, so a bound compared as if they were UTC runs
five hours ahead of their open transactions, and their late commits are lost. Such a cursor
therefore needs `source_timezone`, the writers' zone; the bound is moved to its wall clock.

Refused (CursorTimeZoneError, before anything is read):
- no `source_timezone`;
- a zone without one fixed UTC offset (daylight saving): its wall clock goes back an hour each
  autumn, so a row written later can sort before earlier ones, behind the position;
- a zone whose offset differs from the default the database gives sessions that set none (the
  server's, the database's or a role's TimeZone setting): what writers get unless they set one.
Not checkable here: a client that sets its own TimeZone (a JDBC client sets its JVM's).
"""
from __future__ import annotations

import datetime as dt

from lakehouse.config.model import ExtractTableConfig, PostgresConfig
from lakehouse.extract.identifiers import IdentifierError, SourceTable
from lakehouse.extract.literals import TIMESTAMP

# Instants every month from 2000 to 2040: a zone keeps one offset if it is the same at all of them.
OFFSETS_SQL = """
SELECT DISTINCT (t AT TIME ZONE %s) - (t AT TIME ZONE 'UTC')
FROM generate_series(timestamptz '2000-01-01 00:00Z', timestamptz '2040-01-01 00:00Z', interval '1 month') AS t
"""
SAME_CLOCK_SQL = """
SELECT bool_and((t AT TIME ZONE %s) = (t AT TIME ZONE %s))
FROM generate_series(timestamptz '2000-01-01 00:00Z', timestamptz '2040-01-01 00:00Z', interval '1 month') AS t
"""
ROLE_DEFAULTS_SQL = """
SELECT coalesce('role ' || r.rolname, 'every role'), split_part(c, '=', 2)
FROM pg_db_role_setting s
LEFT JOIN pg_roles r ON r.oid = s.setrole
LEFT JOIN pg_database d ON d.oid = s.setdatabase
CROSS JOIN unnest(s.setconfig) AS c
WHERE (s.setdatabase = 0 OR d.datname = current_database()) AND lower(split_part(c, '=', 1)) = 'timezone'
"""


class CursorTimeZoneError(IdentifierError):
    """A `timestamp` cursor whose writers' time zone is unknown or unsafe; nothing was run."""


def cursor_utc_offset(conn, pg: PostgresConfig, name: str, spec: ExtractTableConfig,
                      table: SourceTable) -> dt.timedelta:
    """How far the cursor's wall clock is from UTC (0 for a timestamptz cursor), once checked."""
    if table.type_of(table.cursor) != TIMESTAMP:
        return dt.timedelta(0)
    from psycopg import errors

    key = f"extract.tables.{name}.source_timezone"
    where = f"cursor_column {table.cursor!r} of {table.display} is timestamp without time zone"
    zone = spec.source_timezone
    if zone is None:
        raise CursorTimeZoneError(
            f"{where}: its values are wall-clock times of the writers' session TimeZone, which the late-commit "
            f"guard must know; set {key} to it (a zone with a fixed UTC offset), or make the column timestamptz")
    try:
        offsets = [row[0] for row in conn.execute(OFFSETS_SQL, (zone,)).fetchall()]
    except errors.InvalidParameterValue:
        raise CursorTimeZoneError(f"{where}: {key} {zone!r} is not a time zone PostgreSQL knows") from None
    if len(offsets) != 1:
        raise CursorTimeZoneError(
            f"{where}: {key} {zone!r} does not keep one UTC offset (daylight saving): its wall clock goes back, "
            "so rows written later can sort behind the position; write UTC (or use timestamptz)")
    for whose, default in _session_defaults(conn, pg):
        if not conn.execute(SAME_CLOCK_SQL, (default, zone)).fetchone()[0]:
            raise CursorTimeZoneError(
                f"{where}: {key} is {zone!r}, but {whose} sessions default to {default}: writers that do "
                f"not set their TimeZone write that wall clock; make them agree")
    return offsets[0]


def _session_defaults(conn, pg: PostgresConfig) -> list[tuple[str, str]]:
    """(whose, zone): the TimeZone a session of this database gets without setting one."""
    from lakehouse.sources.postgres import connect

    with connect(pg, "lakehouse-postgres-extract:time-zone-check", time_zone=None) as plain:
        server = plain.execute("SHOW TimeZone").fetchone()[0]
    return [("the database's", server), *conn.execute(ROLE_DEFAULTS_SQL).fetchall()]
