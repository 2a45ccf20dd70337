"""C0 and C1: what a team would use instead of the Spark extract, on the same Postgres table.

C0 is the floor of any extract: `COPY (SELECT * ...) TO STDOUT` through psycopg, bytes only,
nothing parsed or written. C1 is a complete extract to Delta without Spark: connectorx reads the
table into Arrow (partitioned on the key, as many partitions as ours), deltalake writes it.
"""
from __future__ import annotations

import time
from urllib.parse import quote

from lakehouse.config import Config


def copy_to_stdout(cfg: Config, schema: str, table: str) -> dict:
    """C0: rows and bytes of a text COPY of the whole table, and its rows/s."""
    from psycopg import sql

    from lakehouse.sources.postgres import connect

    started = time.monotonic()
    rows = size = 0
    with connect(cfg.postgres, "lakehouse-bench-c0") as conn, conn.cursor() as cursor:
        query = sql.SQL("COPY (SELECT * FROM {}) TO STDOUT").format(sql.Identifier(schema, table))
        with cursor.copy(query) as copy:
            for chunk in copy:
                rows += bytes(chunk).count(b"\n")
                size += len(chunk)
    seconds = time.monotonic() - started
    return {"rows": rows, "bytes": size, "wall_s": seconds, "rows_per_s": rows / seconds}


def connectorx_to_delta(cfg: Config, schema: str, table: str, key: str, partitions: int, path: str) -> dict:
    """C1: connectorx -> Arrow -> deltalake (one commit); rows/s over both steps."""
    import connectorx
    from deltalake import write_deltalake

    pg = cfg.postgres
    uri = (f"postgresql://{quote(pg.user)}:{quote(pg.password.resolve(), safe='')}@{pg.host}:{pg.port}/"
           f"{pg.database}?sslmode={pg.sslmode}")
    started = time.monotonic()
    arrow = connectorx.read_sql(uri, f'SELECT * FROM "{schema}"."{table}"', return_type="arrow",  # noqa: S608
                                partition_on=key, partition_num=partitions)
    read_s = time.monotonic() - started
    write_deltalake(path, arrow, mode="overwrite")
    seconds = time.monotonic() - started
    return {"rows": arrow.num_rows, "read_s": read_s, "write_s": seconds - read_s, "wall_s": seconds,
            "rows_per_s": arrow.num_rows / seconds, "partitions": partitions}
