"""Typed SQL literals: how values reach the one SQL text that cannot take bind parameters.

Every query this package sends through psycopg binds its values. Spark's JDBC source cannot:
it sends the `dbtable` text as written. So the values in that text (a stored position, a
backfill range) are first parsed into typed Python values (`parse_text`, or the position
decoder), then rendered here by `sql_literal`, which accepts exactly one Python type per column
type and writes only characters it produced itself:

- timestamps: `isoformat()` of a datetime (digits, `-`, `:`, `.`, space, `+`), re-checked by a
  regular expression before it is quoted;
- integers: the decimal digits of an `int` (never a bool) within the column type's range;
- text: a Unicode escape string, `U&'\\+0000E9...'`, six hex digits per character, so no character
  of the value itself (quotes, backslashes, comment markers) ever appears in the SQL. Like a bound
  parameter, it has no collation of its own and compares in the column's (`convert_from(...,
  'UTF8')` would compare in "C", its `name` argument's, and read pages ending in en-US order in byte
  order). With standard_conforming_strings off the server refuses it rather than misreading it;
- uuid: the canonical form of a `uuid.UUID`.

Anything else raises LiteralError instead of being rendered.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid

TIMESTAMPTZ = "timestamp with time zone"
TIMESTAMP = "timestamp without time zone"
INTEGER_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
TEXT_TYPES = ("text", "character varying")
UUID = "uuid"

_TIMESTAMP_TEXT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}")
_INTEGER_TEXT = re.compile(r"[+-]?\d{1,20}")


class LiteralError(ValueError):
    """A value does not have the type its column needs; it was not rendered."""


def sql_literal(value, data_type: str) -> str:
    """The SQL literal of `value` for a column of `data_type` (information_schema spelling)."""
    if data_type == TIMESTAMPTZ:
        return f"CAST('{_timestamp_text(value, aware=True)}+00:00' AS timestamptz)"
    if data_type == TIMESTAMP:
        return f"CAST('{_timestamp_text(value, aware=False)}' AS timestamp)"
    if data_type in INTEGER_RANGES:
        return str(check_value(value, data_type))
    if data_type in TEXT_TYPES:
        return "U&'" + "".join(f"\\+{ord(char):06X}" for char in check_value(value, data_type)) + "'"
    if data_type == UUID:
        return f"CAST('{check_value(value, data_type)}' AS uuid)"
    raise LiteralError(f"no literal for columns of type {data_type!r}")


def check_value(value, data_type: str):
    """Returns `value` if it is exactly what a column of `data_type` holds, else raises LiteralError.

    Timestamps come back normalised: aware UTC for timestamptz, naive (UTC) for timestamp.
    """
    if data_type in (TIMESTAMPTZ, TIMESTAMP):
        if not isinstance(value, dt.datetime):
            raise LiteralError(f"{data_type} needs a datetime, got {type(value).__name__}")
        aware = value.tzinfo is not None and value.utcoffset() is not None
        if data_type == TIMESTAMPTZ and not aware:
            raise LiteralError("timestamp with time zone needs an aware datetime")
        if data_type == TIMESTAMP and aware:
            raise LiteralError("timestamp without time zone needs a naive datetime (UTC)")
        return value.astimezone(dt.timezone.utc) if aware else value
    if data_type in INTEGER_RANGES:
        low, high = INTEGER_RANGES[data_type]
        if type(value) is not int or not low <= value <= high:
            raise LiteralError(f"{data_type} needs an int in [{low}, {high}], got {value!r}")
        return value
    if data_type in TEXT_TYPES:
        if type(value) is not str or "\x00" in value or not _encodes_as_utf8(value):
            raise LiteralError(f"{data_type} needs a str of Unicode characters but NUL, got {value!r}")
        return value
    if data_type == UUID:
        if not isinstance(value, uuid.UUID):
            raise LiteralError(f"uuid needs a uuid.UUID, got {type(value).__name__}")
        return value
    raise LiteralError(f"unsupported column type {data_type!r}")


def parse_text(text: str, data_type: str):
    """Parses a value typed by a person (e.g. `--since`) into the column's Python type.

    Timestamps are ISO 8601 (`2024-05-01`, `2024-05-01T12:00:00Z`, `...+02:00`); one without an
    offset is taken as UTC, like every timestamp in the lake.
    """
    if not isinstance(text, str):
        raise LiteralError(f"expected text, got {type(text).__name__}")
    if data_type in (TIMESTAMPTZ, TIMESTAMP):
        stripped = text.strip()
        try:
            parsed = dt.datetime.fromisoformat(stripped[:-1] + "+00:00" if stripped.endswith("Z") else stripped)
        except ValueError:
            raise LiteralError(f"not an ISO 8601 timestamp: {text!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        utc = parsed.astimezone(dt.timezone.utc)
        return utc if data_type == TIMESTAMPTZ else utc.replace(tzinfo=None)
    if data_type in INTEGER_RANGES:
        if not _INTEGER_TEXT.fullmatch(text.strip()):
            raise LiteralError(f"not an integer: {text!r}")
        return check_value(int(text), data_type)
    if data_type == UUID:
        try:
            return uuid.UUID(text)
        except ValueError:
            raise LiteralError(f"not a uuid: {text!r}") from None
    return check_value(text, data_type)


def _timestamp_text(value, aware: bool) -> str:
    checked = check_value(value, TIMESTAMPTZ if aware else TIMESTAMP)
    text = checked.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if not _TIMESTAMP_TEXT.fullmatch(text):  # isoformat always matches; the quoting must not depend on it
        raise LiteralError(f"unexpected timestamp text: {text!r}")
    return text


def _encodes_as_utf8(text: str) -> bool:
    """False for a str holding lone surrogates, which no UTF-8 text (and no Postgres value) has."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
