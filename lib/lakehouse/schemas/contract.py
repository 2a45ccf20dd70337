"""The shape of a Kafka payload contract: fields, their kinds and the rules a record must pass.

A contract is the reader's schema. Parsing (lakehouse.transforms.parsing) judges a record only on
the fields listed here, so the compatibility rule is:

- compatible, accepted without a restart: a new optional field (ignored until the contract lists
  it; bronze keeps the raw bytes for a later re-read), a new minor `schema_version` (1.0 -> 1.1);
- incompatible, quarantined: a missing or null required field, a known field whose value no longer
  converts to its kind, a value outside an allowed set, another major `schema_version` (2.x).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

# The kind of a field decides how its JSON value is converted and checked.
KINDS = (
    "text",            # any JSON scalar, kept as its text
    "uuid",            # 8-4-4-4-12 hex digits, stored lower-case
    "user_id",         # decimal string of a users.user_id (1..N)
    "enum",            # one of Field.allowed
    "country_code",    # ISO 3166-1 alpha-2, upper case
    "decimal",         # exact decimal(precision, scale): a JSON number or a numeric string
    "double",          # a finite JSON number
    "timestamp",       # ISO 8601 text, UTC unless an offset is given
    "json_object",     # a JSON object, kept as JSON text
    "string_map",      # a JSON object of scalars, kept as map<string,string>
    "schema_version",  # "<major>.<minor>", major equal to the contract's
)

# No timestamp in any payload may be earlier than this (UTC).
MIN_TIMESTAMP = "2020-01-01 00:00:00"


@dataclass(frozen=True)
class Field:
    """One payload field: its JSON name (also its silver column name), kind and constraints."""

    name: str
    kind: str
    required: bool = False
    allowed: tuple[str, ...] = ()
    precision: int = 10
    scale: int = 2
    minimum: Optional[str] = None  # inclusive bounds of a decimal, as decimal text
    maximum: Optional[str] = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"field {self.name}: unknown kind {self.kind!r}; known: {', '.join(KINDS)}")
        if (self.kind == "enum") != bool(self.allowed):
            raise ValueError(f"field {self.name}: allowed values go with kind 'enum' only, and it needs them")


@dataclass(frozen=True)
class Contract:
    """A versioned Kafka payload contract and where its records land.

    Attributes:
        name: the contract and bronze table name (`bronze.<name>`), also the default topic name.
        silver_table: the silver table name (`silver.<silver_table>`).
        version: the `schema_version` producers write now.
        fields: every field the reader knows, `schema_version` included.
        record_key: fields identifying one version of a record; exact repeats are duplicates.
        not_before: (earlier, later) timestamp field pairs; `later` must not precede `earlier`.
    """

    name: str
    silver_table: str
    version: str
    fields: tuple[Field, ...]
    record_key: tuple[str, ...]
    not_before: tuple[tuple[str, str], ...] = ()

    @property
    def major(self) -> str:
        return self.version.split(".")[0]

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)
