"""C0 and C1: what a team would use instead of the Spark extract, on the same Postgres table.

C0 is the floor of any extract: `COPY (SELECT * ...) TO STDOUT` through psycopg, bytes only,
nothing parsed or written. C1 is a complete extract to Delta without Spark: connectorx reads the
table into Arrow (partitioned on the key, as many partitions as ours), deltalake writes it.
C1-incremental is its next run: the rows changed since, read the same way and merged by key.
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


def connectorx_to_delta(cfg: Config, schema: str, table: str, key: str, partitions: int, path: str):
    """C1: connectorx -> Arrow -> deltalake (one commit); (figures with rows/s over both steps, the rows)."""
    import connectorx
    from deltalake import write_deltalake

    started = time.monotonic()
    arrow = connectorx.read_sql(_uri(cfg), f'SELECT * FROM "{schema}"."{table}"', return_type="arrow",  # noqa: S608
                                partition_on=key, partition_num=partitions)
    read_s = time.monotonic() - started
    write_deltalake(path, arrow, mode="overwrite")
    seconds = time.monotonic() - started
    return {"rows": arrow.num_rows, "read_s": read_s, "write_s": seconds - read_s, "wall_s": seconds,
            "rows_per_s": arrow.num_rows / seconds, "partitions": partitions}, arrow


def last_position(arrow, cursor: str, key: str) -> tuple:
    """The (cursor, key) of the newest row of an Arrow table: where C1's next incremental run starts."""
    import pyarrow.compute as pc

    newest = pc.max(arrow[cursor])
    tied = arrow.filter(pc.equal(arrow[cursor], newest))
    return newest.as_py(), pc.max(tied[key]).as_py()


def connectorx_merge(cfg: Config, schema: str, table: str, key: str, cursor: str, position: tuple,
                     partitions: int, path: str, safety_delay_s: float) -> dict:
    """C1-incremental: the rows after `position` (the extract's predicate: `(cursor, key) > position`,
    below now() - safety delay) through connectorx, then one `deltalake` MERGE by `key` (newest wins)
    into the Delta table at `path`; rows/s over both steps."""
    import connectorx
    from deltalake import DeltaTable

    after_cursor, after_key = position
    query = (f'SELECT * FROM "{schema}"."{table}" WHERE ("{cursor}", "{key}") > '  # noqa: S608
             f"('{after_cursor.isoformat()}'::timestamptz, {int(after_key)}) "
             f"AND \"{cursor}\" < now() - interval '{float(safety_delay_s)} seconds'")
    started = time.monotonic()
    arrow = connectorx.read_sql(_uri(cfg), query, return_type="arrow", partition_on=key, partition_num=partitions)
    read_s = time.monotonic() - started
    metrics = (
        DeltaTable(path).merge(arrow, f"t.{key} = s.{key}", source_alias="s", target_alias="t")
        .when_matched_update_all(predicate=f"s.{cursor} > t.{cursor}")
        .when_not_matched_insert_all()
        .execute()
    )
    seconds = time.monotonic() - started
    return {"rows": arrow.num_rows, "read_s": read_s, "merge_s": seconds - read_s, "wall_s": seconds,
            "rows_per_s": arrow.num_rows / seconds, "updated": metrics["num_target_rows_updated"],
            "inserted": metrics["num_target_rows_inserted"], "files_added": metrics.get("num_target_files_added"),
            "files_removed": metrics.get("num_target_files_removed")}


def _uri(cfg: Config) -> str:
    pg = cfg.postgres
    return (f"postgresql://{quote(pg.user)}:{quote(pg.password.resolve(), safe='')}@{pg.host}:{pg.port}/"
            f"{pg.database}?sslmode={pg.sslmode}")
