"""The shape of a Kafka payload contract: fields, their kinds and the rules a record must pass, and
how its accepted records become silver rows (table, partition, merge rule, shaping step, capabilities).

A contract is the reader's schema. Parsing (lakehouse.transforms.parsing) judges a record only on
the fields listed here, so the compatibility rule is:

- compatible, accepted without a restart: a new optional field (ignored until the contract lists
  it; bronze keeps the raw bytes for a later re-read), a new minor `schema_version` (1.0 -> 1.1).
  Listed in the contract and its `silver_schema`, the field becomes a new silver column at the next
  run (older rows null; lakehouse.sinks.delta.ensure_table); a silver column's type cannot change;
- incompatible, quarantined: a missing or null required field, a known field whose value no longer
  converts to its kind, a value outside an allowed set, another major `schema_version` (2.x).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from pyspark.sql import Column, DataFrame
from pyspark.sql.types import StructType

from lakehouse.sinks.delta import MergeSpec

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

Transform = Callable[[DataFrame], DataFrame]
# processed_at -> a step from accepted rows (one per merge key) to rows of the silver schema.
Shape = Callable[[Column], Transform]


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
    """A versioned Kafka payload contract and how its records land in silver.

    The streaming jobs ask the contract, never its name, so a topic is one contract module (plus
    its conf entries and dbt source).

    Attributes:
        name: the contract and bronze table name (`bronze.<name>`), also the default topic name.
        version: the `schema_version` producers write now.
        fields: every field the reader knows, `schema_version` included.
        record_key: fields identifying one version of a record; exact repeats are duplicates.
        silver_table: the silver table name (`silver.<silver_table>`).
        silver_schema: the columns of the silver table.
        silver_partition: the silver table's partition column (a date).
        merge: how a batch's rows meet the silver rows already there: insert once, or the newest
            version wins. A batch keeps one row per key, the one this rule would keep. With
            `prune_column` the MERGE reads only the batch's partitions: a repeat is an exact copy
            with the same date (an id reused with another date is a producer bug that dbt's unique
            tests on silver report).
            With `bounded_by` (key columns only) it reads only the rows between the batch's
            first and last value of each, which file statistics find without reading the rest.
        shape: the shaping step, accepted rows (one per key) -> rows of `silver_schema`.
        not_before: (earlier, later) timestamp field pairs; `later` must not precede `earlier`.
        needs_fx_rates: rows get `amount_usd`, their amount at the reference.fx_rates rate of
            their currency in force on the transaction date; a row without a rate is quarantined.
        fraud_review: rows are scored by the fraud rules (`is_flagged`, `fraud_reasons`), with the
            silver rows of the same users, and flagged ones are copied to silver.fraud_review.
            Both capabilities read the transaction columns (lakehouse.transforms.transactions, fraud).
    """

    name: str
    version: str
    fields: tuple[Field, ...]
    record_key: tuple[str, ...]
    silver_table: str
    silver_schema: StructType
    silver_partition: str
    merge: MergeSpec
    shape: Shape
    not_before: tuple[tuple[str, str], ...] = ()
    needs_fx_rates: bool = False
    fraud_review: bool = False

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
