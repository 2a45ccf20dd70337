"""The pure pieces of the extract that decide what SQL says: identifiers, typed literals, positions,
windows and the JDBC read options. Hostile values must come out harmless or not at all."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest

from lakehouse.extract.identifiers import IdentifierError, SourceColumn, SourceTable, quote_ident
from lakehouse.extract.literals import LiteralError, check_value, parse_text, sql_literal
from lakehouse.extract.position import Position, decode, encode
from lakehouse.extract.read import PartitionPlan, jdbc_read_options
from lakehouse.extract.window import Window, bound_predicate, spark_predicate

TZ = "timestamp with time zone"
UTC = dt.timezone.utc
T = dt.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
HOSTILE = "x'); DROP TABLE orders; --\\'\""


def table(key_type: str = "bigint", cursor_type: str = TZ, keys: tuple = ("order_id",)) -> SourceTable:
    columns = (SourceColumn("updated_at", cursor_type, False),
               *(SourceColumn(k, key_type, False) for k in keys),
               SourceColumn('odd "name"', "text", True))
    return SourceTable("public", "orders", columns, keys, "updated_at", partition_column=None)


def test_identifiers_are_always_quoted_with_embedded_quotes_doubled():
    assert quote_ident("orders") == '"orders"'
    assert quote_ident('orders"; DROP TABLE x; --') == '"orders""; DROP TABLE x; --"'
    assert table().qualified == '"public"."orders"'
    for bad in ("", "a\x00b", None):
        with pytest.raises(IdentifierError):
            quote_ident(bad)


@pytest.mark.parametrize(("value", "data_type", "literal"), [
    (T, TZ, "CAST('2024-05-01 12:30:15.123456+00:00' AS timestamptz)"),
    (T.astimezone(dt.timezone(dt.timedelta(hours=-7))), TZ, "CAST('2024-05-01 12:30:15.123456+00:00' AS timestamptz)"),
    (dt.datetime(2024, 5, 1), "timestamp without time zone", "CAST('2024-05-01 00:00:00.000000' AS timestamp)"),
    (-(2**63), "bigint", "-9223372036854775808"),
    (7, "smallint", "7"),
    ("", "text", "U&''"),
    ("é'", "character varying", "U&'\\+0000E9\\+000027'"),
    ("日本", "text", "U&'\\+0065E5\\+00672C'"),
    (uuid.UUID("12345678-1234-5678-1234-567812345678"), "uuid", "CAST('12345678-1234-5678-1234-567812345678' AS uuid)"),
])
def test_literals_are_written_from_typed_values_only(value, data_type, literal):
    assert sql_literal(value, data_type) == literal


def test_a_hostile_string_reaches_sql_as_unicode_escapes_only():
    literal = sql_literal(HOSTILE, "text")
    assert re.fullmatch(r"U&'(\\\+[0-9A-F]{6})*'", literal)
    assert "".join(chr(int(code, 16)) for code in re.findall(r"[0-9A-F]{6}", literal)) == HOSTILE


@pytest.mark.parametrize(("value", "data_type"), [
    (True, "bigint"),                         # a bool is an int in Python, never in SQL
    (2**63, "bigint"),
    (2**31, "integer"),
    (1.5, "bigint"),
    (Decimal("1"), "bigint"),
    ("1", "bigint"),
    ("2024-05-01", TZ),                       # text is parsed first (parse_text), never rendered
    (dt.datetime(2024, 5, 1), TZ),            # naive for timestamptz
    (T, "timestamp without time zone"),       # aware for timestamp
    (dt.date(2024, 5, 1), TZ),
    ("a\x00b", "text"),
    ("a\ud800b", "text"),                     # a lone surrogate: no UTF-8 text holds one
    (b"bytes", "text"),
    ("12345678-1234-5678-1234-567812345678", "uuid"),
    (1, "numeric"),
])
def test_anything_else_is_refused(value, data_type):
    with pytest.raises(LiteralError):
        sql_literal(value, data_type)


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-01", dt.datetime(2024, 5, 1, tzinfo=UTC)),
    ("2024-05-01T12:00:00Z", dt.datetime(2024, 5, 1, 12, tzinfo=UTC)),
    ("2024-05-01T14:00:00+02:00", dt.datetime(2024, 5, 1, 12, tzinfo=UTC)),
    (" 2024-05-01 12:00:00.500000 ", dt.datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)),
])
def test_flag_values_are_parsed_into_the_cursor_type_as_utc(text, expected):
    assert parse_text(text, TZ) == expected
    assert parse_text(text, "timestamp without time zone") == expected.replace(tzinfo=None)


@pytest.mark.parametrize(("text", "data_type"), [
    ("2024-05-01'; DROP TABLE orders; --", TZ),
    ("now()", TZ),
    ("1 OR 1=1", "bigint"),
    ("0x10", "bigint"),
    ("99999999999999999999", "bigint"),
    ("not-a-uuid", "uuid"),
])
def test_hostile_flag_values_are_refused(text, data_type):
    with pytest.raises(LiteralError):
        parse_text(text, data_type)


def test_positions_order_by_cursor_then_key_so_ties_split_exactly():
    a, b, c = Position(T, (5,)), Position(T, (6,)), Position(T + dt.timedelta(microseconds=1), (1,))
    assert a < b < c
    assert sorted([c, b, a]) == [a, b, c]
    assert Position(T, (1, "b")) > Position(T, (1, "a"))
    assert max(a, Position(T, (5,))) == a


@pytest.mark.parametrize(("key_type", "key"), [
    ("bigint", (2**63 - 1,)),
    ("text", (HOSTILE,)),
    ("uuid", (uuid.UUID(int=1),)),
])
def test_positions_round_trip_through_their_stored_form(key_type, key):
    source = table(key_type)
    position = Position(T, key)
    stored = encode(position, source)
    assert decode(stored, source) == position
    assert stored["cursor"] == "2024-05-01T12:30:15.123456+00:00"


def test_a_composite_key_position_round_trips():
    source = table(keys=("tenant_id", "order_id"))
    assert decode(encode(Position(T, (3, 9)), source), source) == Position(T, (3, 9))


@pytest.mark.parametrize("stored", [
    {"cursor": "2024-05-01T12:30:15+00:00", "key": [True]},
    {"cursor": "2024-05-01T12:30:15+00:00", "key": ["5"]},
    {"cursor": "2024-05-01T12:30:15+00:00", "key": [5, 6]},
    {"cursor": "2024-05-01T12:30:15", "key": [5]},                       # naive for a timestamptz cursor
    {"cursor": "2024-05-01'; DROP TABLE orders; --", "key": [5]},
    {"cursor": 1714566615, "key": [5]},
    {"cursor": "2024-05-01T12:30:15+00:00", "key": [5], "extra": 1},
    "(2024-05-01, 5)",
    None,
])
def test_a_tampered_stored_position_is_refused(stored):
    with pytest.raises(LiteralError):
        decode(stored, table())


def test_a_non_canonical_uuid_key_is_refused():
    with pytest.raises(LiteralError, match="canonical"):
        decode({"cursor": T.isoformat(), "key": ["{00000000-0000-0000-0000-000000000001}"]}, table("uuid"))


def test_the_window_after_and_through_two_positions_is_a_row_value_comparison():
    window = Window(after=Position(T, (5,)), through=Position(T, (900,)))
    cursor = "CAST('2024-05-01 12:30:15.123456+00:00' AS timestamptz)"
    assert spark_predicate(window, table()) == (
        f'("updated_at", "order_id") > ({cursor}, 5) AND ("updated_at", "order_id") <= ({cursor}, 900)'
    )


def test_a_backfill_window_is_a_half_open_cursor_range_and_an_empty_window_is_everything():
    window = Window(cursor_from=T, cursor_before=T + dt.timedelta(days=1))
    assert spark_predicate(window, table()) == (
        "\"updated_at\" >= CAST('2024-05-01 12:30:15.123456+00:00' AS timestamptz) "
        "AND \"updated_at\" < CAST('2024-05-02 12:30:15.123456+00:00' AS timestamptz)"
    )
    assert spark_predicate(Window(), table()) == "TRUE"


def test_the_psycopg_rendering_binds_every_value():
    where, params = bound_predicate(Window(after=Position(T, (HOSTILE,)), cursor_before=T), table("text"))
    text = where.as_string(None)
    assert text == '("updated_at", "order_id") > (%s, %s) AND "updated_at" < %s'
    assert params == [T, HOSTILE, T]


def test_a_window_refuses_values_of_the_wrong_type():
    with pytest.raises(LiteralError):
        spark_predicate(Window(after=Position(T, ("5",))), table())
    with pytest.raises(LiteralError):
        bound_predicate(Window(cursor_from="2024-05-01"), table())


def test_the_jdbc_read_aliases_every_column_and_never_carries_credentials():
    options = jdbc_read_options(table(), "TRUE", 5000, PartitionPlan("order_id", 1, 1000, 4))
    assert options == {
        "dbtable": '(SELECT "updated_at" AS c0, "order_id" AS c1, "odd ""name""" AS c2 FROM "public"."orders" '
                   "WHERE TRUE) AS extract_window",
        "fetchsize": "5000",
        "readOnly": "true",
        "readOnlyMode": "always",
        "partitionColumn": "c1",
        "lowerBound": "1",
        "upperBound": "1000",
        "numPartitions": "4",
    }
    assert "numPartitions" not in jdbc_read_options(table(), "TRUE", 10, PartitionPlan("order_id", 1, 9, 1))


def test_check_value_normalises_timestamps_to_utc():
    assert check_value(T.astimezone(dt.timezone(dt.timedelta(hours=5))), TZ).tzinfo == UTC


def test_configured_partition_bounds_are_used_as_given_and_one_partition_means_no_plan():
    import dataclasses

    from lakehouse.config import load_config
    from lakehouse.extract.modes import TableRun, partition_plan
    from tests.conftest import CONF_DIR

    spec = load_config("local", CONF_DIR, environ={}).extract.tables["orders"]
    fixed = dataclasses.replace(spec, partition_lower=1, partition_upper=5000, num_partitions=4)
    run = TableRun("orders", fixed, table(), "/lake/silver/orders", "in_flight", 1.0)
    assert partition_plan(None, run, Window()) == PartitionPlan("order_id", 1, 5000, 4)  # no query needed
    single = dataclasses.replace(run, spec=dataclasses.replace(fixed, num_partitions=1))
    assert partition_plan(None, single, Window()) is None
