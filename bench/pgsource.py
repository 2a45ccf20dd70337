"""S6's source: the operational `users` and `orders` tables in the run's private schema, filled
server-side with generate_series (millions of rows in seconds, no client round trips).

The DDL is the source generator's (lakehouse.sourcegen.schema): keys, the (updated_at, key)
index the extract scans, and the trigger that moves updated_at forward on every update.
"""
from __future__ import annotations

from lakehouse.sourcegen.schema import create_tables

USERS_SQL = """
INSERT INTO {schema}.users (user_id, email, full_name, country_code, created_at, last_login_at, updated_at)
SELECT g, 'user' || g || '@example.com', 'User ' || g, (ARRAY['US', 'GB', 'DE', 'FR', 'NL'])[1 + g %% 5],
       now() - interval '2 hours' - (g %% 700) * interval '1 day', NULL,
       now() - interval '2 hours' - (g %% 700) * interval '1 day'
FROM generate_series(1, %(users)s) AS g
"""
ORDERS_SQL = """
INSERT INTO {schema}.orders (order_id, customer_id, order_date, order_total, status, quantity, created_at, updated_at)
SELECT g, 1 + g %% %(users)s, (now() - (g %% 365) * interval '1 day')::date, round((g %% 100000) / 100.0, 2),
       (ARRAY['completed', 'pending', 'refunded'])[1 + g %% 3], 1 + g %% 5,
       now() - interval '2 hours' - (g %% 365) * interval '1 day',
       now() - interval '2 hours' - (g %% 365) * interval '1 day' + (g %% 3600) * interval '1 second'
FROM generate_series(1, %(orders)s) AS g
"""
UPDATE_SQL = "UPDATE {schema}.orders SET status = 'refunded' WHERE order_id %% %(every)s = 0"


def fill(conn, schema: str, users: int, orders: int) -> None:
    """Creates the tables in `schema` and fills them; analyses them for the planner."""
    from psycopg import sql

    create_tables(conn, schema)
    name = sql.Identifier(schema)
    with conn.transaction():
        conn.execute(sql.SQL(USERS_SQL).format(schema=name), {"users": users})
        conn.execute(sql.SQL(ORDERS_SQL).format(schema=name), {"users": users, "orders": orders})
    conn.execute(sql.SQL("ANALYZE {}.users, {}.orders").format(name, name))


def update_share(conn, schema: str, share: float) -> int:
    """Updates every 1/share-th order (the trigger moves updated_at); returns the rows updated."""
    from psycopg import sql

    every = max(round(1 / share), 1)
    return conn.execute(sql.SQL(UPDATE_SQL).format(schema=sql.Identifier(schema)), {"every": every}).rowcount


def extract_table_config(schema: str, partitions: int, fetch_size: int) -> str:
    """The `--set extract.tables.bench_orders=...` value pointing the extract at the private table."""
    return (f"extract.tables.bench_orders={{schema: {schema}, table: orders, primary_key: [order_id], "
            f"cursor_column: updated_at, target_layer: silver, target_name: bench_orders, "
            f"partition_column: order_id, num_partitions: {partitions}, fetch_size: {fetch_size}}}")
