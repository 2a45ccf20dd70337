"""psycopg 3 connections to the configured Postgres, built from `cfg.postgres` alone.

The password is resolved from its secret reference here, at connection time, and never logged.
Extract connections are read-only at the session level (`default_transaction_read_only`), so
even a statement that slipped through every other check could not change the source.
"""
from __future__ import annotations

from typing import Optional

from lakehouse.config.model import PostgresConfig

CONNECT_TIMEOUT_S = 10


def connect(pg: PostgresConfig, application_name: str, read_only: bool = True, time_zone: Optional[str] = "UTC"):
    """An autocommit connection in UTC: every statement sees the latest committed data.

    Args:
        pg: the postgres section of the config.
        application_name: shown in pg_stat_activity, so operators can tell who holds what.
        read_only: refuse writes for the whole session (extracts); False for the seeding tools.
        time_zone: the session's TimeZone; None: the database's default for this role.
    """
    import psycopg

    options = "-c DateStyle=ISO" + ("" if time_zone is None else f" -c TimeZone={time_zone}")
    if read_only:
        options += " -c default_transaction_read_only=on"
    return psycopg.connect(
        host=pg.host,
        port=pg.port,
        dbname=pg.database,
        user=pg.user,
        password=pg.password.resolve(),
        sslmode=pg.sslmode,
        application_name=application_name,
        connect_timeout=CONNECT_TIMEOUT_S,
        options=options,
        autocommit=True,
    )
