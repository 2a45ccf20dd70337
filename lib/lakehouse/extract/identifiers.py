"""Source names checked against the catalog, then quoted: the only way a name reaches SQL.

A table or column named in config is used only after information_schema confirms that it exists
(exact spelling, as the catalog stores it) and only in quoted form, so `orders; DROP TABLE x--`
fails here with a clear error, before any query, read or write, and a real table with that name
is read as the harmless identifier `"orders; DROP TABLE x--"`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from lakehouse.config.model import ExtractTableConfig

# The late-commit guard bounds time (lakehouse.extract.bounds), so the cursor must be a timestamp.
CURSOR_TYPES = ("timestamp with time zone", "timestamp without time zone")
KEY_TYPES = ("smallint", "integer", "bigint", "text", "character varying", "uuid")
PARTITION_TYPES = ("smallint", "integer", "bigint")


class IdentifierError(ValueError):
    """A configured table or column does not exist, or cannot serve its role; nothing was run."""


@dataclass(frozen=True)
class SourceColumn:
    name: str
    data_type: str  # information_schema.columns.data_type, e.g. "timestamp with time zone"
    nullable: bool


@dataclass(frozen=True)
class SourceTable:
    """A configured table as the catalog describes it: every name here was found there."""

    schema: str
    table: str
    columns: tuple[SourceColumn, ...]  # in ordinal order
    primary_key: tuple[str, ...]
    cursor: str
    partition_column: Optional[str] = None

    @property
    def qualified(self) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(self.table)}"

    @property
    def display(self) -> str:
        return f"{self.schema}.{self.table}"

    def type_of(self, column: str) -> str:
        return next(c.data_type for c in self.columns if c.name == column)

    @property
    def position_columns(self) -> tuple[str, ...]:
        """The columns of a position, in comparison order: the cursor, then the key."""
        return (self.cursor, *self.primary_key)


def quote_ident(name: str) -> str:
    """The name as a quoted identifier, embedded double quotes doubled (PostgreSQL's rule)."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise IdentifierError(f"not a usable identifier: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def resolve_table(conn, spec: ExtractTableConfig) -> SourceTable:
    """Looks the configured names up in the catalog (bound parameters only) and checks their roles.

    Raises:
        IdentifierError: naming the missing table or column, or why a column cannot be the cursor,
            the key or the partition column.
    """
    where = f"{spec.schema!r}.{spec.table!r}"
    found = conn.execute(
        "SELECT 1 FROM information_schema.tables"
        " WHERE table_schema = %s AND table_name = %s AND table_type = 'BASE TABLE'",
        (spec.schema, spec.table),
    ).fetchone()
    if found is None:
        raise IdentifierError(
            f"table {where} not found in information_schema.tables as a base table (names are matched "
            "exactly, as the catalog spells them; the role must be allowed to read the table)"
        )
    columns = tuple(
        SourceColumn(name, data_type, nullable == "YES")
        for name, data_type, nullable in conn.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (spec.schema, spec.table),
        ).fetchall()
    )
    by_name = {c.name: c for c in columns}
    roles = [(spec.cursor_column, "cursor_column", CURSOR_TYPES)]
    roles += [(key, "primary_key", KEY_TYPES) for key in spec.primary_key]
    if spec.partition_column is not None:
        roles.append((spec.partition_column, "partition_column", PARTITION_TYPES))
    for name, role, types in roles:
        column = by_name.get(name)
        if column is None:
            raise IdentifierError(f"{role} {name!r} is not a column of {where} in information_schema.columns")
        if column.data_type not in types:
            raise IdentifierError(
                f"{role} {name!r} of {where} is {column.data_type}; supported: {', '.join(types)}"
            )
        if role != "partition_column" and column.nullable:
            raise IdentifierError(
                f"{role} {name!r} of {where} is nullable: rows with NULL there could never be extracted"
            )
    if set(spec.primary_key) not in _unique_keys(conn, spec.schema, spec.table):
        raise IdentifierError(
            f"primary_key {list(spec.primary_key)} of {where} is not its primary key or a unique index"
        )
    return SourceTable(
        schema=spec.schema,
        table=spec.table,
        columns=columns,
        primary_key=tuple(spec.primary_key),
        cursor=spec.cursor_column,
        partition_column=spec.partition_column,
    )


def _unique_keys(conn, schema: str, table: str) -> list[set[str]]:
    """Column sets of the table's primary key and plain unique indexes.

    From pg_catalog: information_schema.table_constraints hides constraints from a role that
    holds only SELECT on the table, which is exactly what an extract role should hold.
    """
    rows = conn.execute(
        "SELECT array_agg(a.attname::text) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
        " WHERE n.nspname = %s AND c.relname = %s AND i.indisunique"
        " AND i.indpred IS NULL AND i.indexprs IS NULL"
        " GROUP BY i.indexrelid",
        (schema, table),
    ).fetchall()
    return [set(row[0]) for row in rows]
