"""Seeds the operational tables (used by `make demo` and `lakehouse-seed-postgres`); re-runs add nothing.

Rows get explicit ids 1..N (ON CONFLICT DO NOTHING), then the identity sequences move past them,
so the application's (and the live writer's) inserts never collide with seeded rows. They keep
their generated `updated_at` (a history load, see schema.history_load): seeding more rows into a
table an extract has already read puts them behind its position, where only a full refresh (or a
backfill) reads them; `--mode reconcile` reports them.
"""
from __future__ import annotations

import datetime as dt
import random
from typing import Optional

from lakehouse.sourcegen.generator import ORDER_COLUMNS, USER_COLUMNS, order_rows, user_rows
from lakehouse.sourcegen.schema import create_tables, history_load


def seed(conn, schema: str = "public", users: int = 1000, orders: int = 5000, seed: int = 42,
         as_of: Optional[dt.datetime] = None) -> dict[str, int]:
    """Creates the tables if needed and inserts the seeded rows, generated as of `as_of` (default
    now); returns the row count of each table."""
    rng = random.Random(seed)
    now = as_of or dt.datetime.now(dt.timezone.utc)
    create_tables(conn, schema)
    with conn.transaction(), history_load(conn, schema, "users"), history_load(conn, schema, "orders"):
        _insert(conn, schema, "users", USER_COLUMNS, user_rows(1, users, rng, now))
        _insert(conn, schema, "orders", ORDER_COLUMNS, order_rows(1, orders, users, rng, now))
        for table, key in (("users", "user_id"), ("orders", "order_id")):
            _move_identity_past_rows(conn, schema, table, key)
    return {table: count_rows(conn, schema, table) for table in ("users", "orders")}


def count_rows(conn, schema: str, table: str) -> int:
    from psycopg import sql

    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))).fetchone()[0]


def _insert(conn, schema: str, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    from psycopg import sql

    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
        sql.Identifier(schema, table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() for _ in columns),
    )
    with conn.cursor() as cursor:
        cursor.executemany(statement, rows)


def _move_identity_past_rows(conn, schema: str, table: str, key: str) -> None:
    from psycopg import sql

    qualified = sql.Identifier(schema, table).as_string(conn)
    statement = sql.SQL(
        "SELECT setval(pg_get_serial_sequence(%s, %s), coalesce((SELECT max({}) FROM {}), 0) + 1, false)")
    conn.execute(statement.format(sql.Identifier(key), sql.Identifier(schema, table)), (qualified, key))
