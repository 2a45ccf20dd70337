"""The position of an extract: the (cursor, primary key) of the last row it read.

Rows are read in (cursor, key) order and compared as a row value, `(cursor, key) > (c, k)`,
so a position splits even a long run of rows sharing one cursor value exactly: each row is
either at or before the position (read) or after it (to read), never both and never neither.
A cursor alone (`cursor > c`) skips the rest of a tie; `cursor >= c` reads it again.

Positions travel in Delta commit metadata as JSON; `decode` accepts only what `encode` writes
for the table's column types, so a tampered or foreign value is refused, never rendered.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from lakehouse.extract.identifiers import SourceTable
from lakehouse.extract.literals import TIMESTAMPTZ, UUID, LiteralError, check_value


@dataclass(frozen=True, order=True)
class Position:
    """A point in (cursor, key...) order; ordering is lexicographic, as PostgreSQL's row compare.

    For text keys that holds under the C collation; the extract itself only ever compares
    positions in SQL, where the column's own collation applies.
    """

    cursor: dt.datetime
    key: tuple

    def describe(self) -> str:
        return f"({self.cursor.isoformat()}, {', '.join(str(k) for k in self.key)})"


def position_of(row: tuple, table: SourceTable) -> Position:
    """The position of a row fetched as (cursor, key...), its values checked against the column types."""
    if len(row) != len(table.position_columns):
        raise LiteralError(f"a position of {table.display} has {len(table.position_columns)} values, got {row!r}")
    values = [check_value(v, table.type_of(c)) for v, c in zip(row, table.position_columns)]
    return Position(values[0], tuple(values[1:]))


def encode(position: Position, table: SourceTable) -> dict[str, Any]:
    """The JSON form stored in the commit metadata."""
    checked = position_of((position.cursor, *position.key), table)
    return {
        "cursor": checked.cursor.isoformat(timespec="microseconds"),
        "key": [str(v) if isinstance(v, uuid.UUID) else v for v in checked.key],
    }


def decode(data: Any, table: SourceTable) -> Position:
    """The position stored by `encode`, checked strictly against the table's column types.

    Raises:
        LiteralError: the value is not exactly what `encode` writes for this table.
    """
    if not isinstance(data, dict) or set(data) != {"cursor", "key"}:
        raise LiteralError(f"a stored position is {{'cursor': ..., 'key': [...]}}, got {data!r}")
    cursor_text, keys = data["cursor"], data["key"]
    if not isinstance(cursor_text, str) or not isinstance(keys, list) or len(keys) != len(table.primary_key):
        raise LiteralError(f"malformed stored position {data!r} for key {list(table.primary_key)}")
    try:
        cursor = dt.datetime.fromisoformat(cursor_text)
    except ValueError:
        raise LiteralError(f"stored cursor is not an ISO timestamp: {cursor_text!r}") from None
    if (cursor.tzinfo is not None) != (table.type_of(table.cursor) == TIMESTAMPTZ):
        raise LiteralError(f"stored cursor {cursor_text!r} does not match column type {table.type_of(table.cursor)}")
    return position_of((cursor, *(_decode_key(v, table.type_of(k)) for v, k in zip(keys, table.primary_key))), table)


def _decode_key(value: Any, data_type: str):
    if data_type != UUID:
        return check_value(value, data_type)  # a str for text, an int in range (never a bool) otherwise
    if not isinstance(value, str):
        raise LiteralError(f"stored uuid key must be a string, got {value!r}")
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise LiteralError(f"stored uuid key is not a uuid: {value!r}") from None
    if str(parsed) != value:
        raise LiteralError(f"stored uuid key is not in canonical form: {value!r}")
    return parsed
