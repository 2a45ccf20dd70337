"""The rows one run reads, as a WHERE clause: literal SQL for Spark, bound parameters for psycopg.

Both renderings come from the same `Window`, built only from typed values (positions read from
Delta and decoded, bounds fetched from Postgres, backfill flags parsed per column type).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from lakehouse.extract.identifiers import SourceTable, quote_ident
from lakehouse.extract.literals import check_value, sql_literal
from lakehouse.extract.position import Position


@dataclass(frozen=True)
class Window:
    """A slice of the table in (cursor, key) order and/or a half-open range of cursor values.

    Attributes:
        after: read rows strictly after this position (incremental); None: from the start.
        through: read rows up to and including this position; None: to the end.
        cursor_from: read rows whose cursor is >= this value (backfill --since).
        cursor_before: read rows whose cursor is < this value (backfill --until).
    """

    after: Optional[Position] = None
    through: Optional[Position] = None
    cursor_from: Optional[Any] = None
    cursor_before: Optional[Any] = None


def spark_predicate(window: Window, table: SourceTable) -> str:
    """The WHERE clause with every value rendered by `sql_literal` ("TRUE" for the whole table)."""
    row = _row_value(table)

    def values(position: Position) -> str:
        pairs = zip((position.cursor, *position.key), table.position_columns)
        return ", ".join(sql_literal(value, table.type_of(column)) for value, column in pairs)

    cursor_type = table.type_of(table.cursor)
    clauses = []
    if window.after is not None:
        clauses.append(f"{row} > ({values(window.after)})")
    if window.through is not None:
        clauses.append(f"{row} <= ({values(window.through)})")
    if window.cursor_from is not None:
        clauses.append(f"{quote_ident(table.cursor)} >= {sql_literal(window.cursor_from, cursor_type)}")
    if window.cursor_before is not None:
        clauses.append(f"{quote_ident(table.cursor)} < {sql_literal(window.cursor_before, cursor_type)}")
    return " AND ".join(clauses) or "TRUE"


def bound_predicate(window: Window, table: SourceTable):
    """The same clause for psycopg: (psycopg.sql.Composed, parameters)."""
    from psycopg import sql

    row = sql.SQL("({})").format(sql.SQL(", ").join(sql.Identifier(c) for c in table.position_columns))
    cursor = sql.Identifier(table.cursor)
    cursor_type = table.type_of(table.cursor)
    clauses, params = [], []

    def add(template: str, left, values: list) -> None:
        marks = sql.SQL(", ").join(sql.Placeholder() for _ in values)
        clauses.append(sql.SQL(template).format(left, marks))
        params.extend(values)

    def values(position: Position) -> list:
        pairs = zip((position.cursor, *position.key), table.position_columns)
        return [check_value(value, table.type_of(column)) for value, column in pairs]

    if window.after is not None:
        add("{} > ({})", row, values(window.after))
    if window.through is not None:
        add("{} <= ({})", row, values(window.through))
    if window.cursor_from is not None:
        add("{} >= {}", cursor, [check_value(window.cursor_from, cursor_type)])
    if window.cursor_before is not None:
        add("{} < {}", cursor, [check_value(window.cursor_before, cursor_type)])
    return (sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("TRUE")), params


def _row_value(table: SourceTable) -> str:
    return "(" + ", ".join(quote_ident(c) for c in table.position_columns) + ")"
