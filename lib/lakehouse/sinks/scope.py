"""Where a MERGE source's keys can already be in the target, so Delta reads only those files.

A MergeSpec's `prune_column` names the target's partitions (the source's values of it) and its
`bounded_by` key columns bound the target's rows to the source's first and last value of each: a
copy of a source row has the same key, so it lies inside, and Delta's file statistics skip every
file outside (for Kafka offsets or sample times, every older batch's file). Found in one aggregate
over the source (`scope_facts`), which a caller may fold into an aggregate it runs anyway, or
observed while the source is computed once anyway (`checkpointed_with_scope`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.spark.observed import checkpointed_observing

if TYPE_CHECKING:
    from lakehouse.sinks.delta import MergeSpec


@dataclass(frozen=True)
class Bound:
    """A column's first and last value in the source, as text (exact in the session's time zone),
    None when the source has no value; `has_null`: the source holds a null there."""

    first: Optional[str]
    last: Optional[str]
    has_null: bool = False


@dataclass(frozen=True)
class Scope:
    """The source's values of the spec's `prune_column` and a Bound per `bounded_by` column."""

    partitions: Optional[tuple] = None
    bounds: Mapping[str, Bound] = field(default_factory=dict)


def scope_facts(spec: MergeSpec, rows: Optional[Column] = None) -> list[Column]:
    """Aggregate columns over the source rows matching `rows` (all when None) that `scope_of` reads."""
    where = F.lit(True) if rows is None else rows
    facts = [F.collect_set(F.when(where, F.col(spec.prune_column)))] if spec.prune_column else []
    for column in spec.bounded_by:
        value = F.when(where, F.col(column))
        facts += [F.min(value).cast("string"), F.max(value).cast("string"),
                  F.max(F.when(where, F.col(column).isNull()))]
    return facts


def scope_of(spec: MergeSpec, facts: Sequence) -> Scope:
    """The Scope from the values of `scope_facts(spec)`, in order."""
    values = list(facts)
    partitions = tuple(values.pop(0)) if spec.prune_column else None
    bounds = {}
    for column in spec.bounded_by:
        first, last, has_null = values[:3]
        del values[:3]
        bounds[column] = Bound(first, last, bool(has_null))
    return Scope(partitions, bounds)


def source_scope(source: DataFrame, spec: MergeSpec) -> Scope:
    """The source's Scope (one small Spark job; none when the spec restricts nothing)."""
    facts = scope_facts(spec)
    return scope_of(spec, source.agg(*facts).first() if facts else ())


def checkpointed_with_scope(source: DataFrame, spec: MergeSpec) -> tuple[DataFrame, Scope]:
    """`source` computed once (`localCheckpoint`) and its Scope, observed meanwhile
    (lakehouse.spark.observed): one Spark job for both instead of two."""
    checkpointed, facts = checkpointed_observing(source, *scope_facts(spec))
    return checkpointed, observed_scope(spec, source, facts)


def observed_scope(spec: MergeSpec, source: DataFrame, facts: Sequence) -> Scope:
    """`scope_of` for the values of `scope_facts(spec)` observed over `source` (checkpointed_observing),
    a date partition's values turned from ISO text into dates, as a collected row holds them."""
    values = list(facts)
    if spec.prune_column and source.schema[spec.prune_column].dataType.typeName() == "date":
        values[0] = [dt.date.fromisoformat(day) for day in values[0]]
    return scope_of(spec, values)


def scope_clauses(source: DataFrame, spec: MergeSpec, scope: Scope) -> list[str]:
    """SQL over the target alias `t`: its partitions and bounds (the source's schema gives the types)."""
    clauses = []
    if spec.prune_column:
        literals = ", ".join(sql_literal(v) for v in scope.partitions if v is not None)
        clauses.append(f"t.`{spec.prune_column}` IN ({literals})" if literals else "false")
    types = {column.name: column.dataType.simpleString() for column in source.schema}
    for column in spec.bounded_by:
        bound = scope.bounds[column]
        either = []
        if bound.first is not None:
            either.append(f"t.`{column}` BETWEEN CAST({sql_literal(bound.first)} AS {types[column]}) "
                          f"AND CAST({sql_literal(bound.last)} AS {types[column]})")
        if bound.has_null:
            either.append(f"t.`{column}` IS NULL")
        if len(either) > 1:
            clauses.append(f"({' OR '.join(either)})")
        else:
            clauses.append(either[0] if either else "false")
    return clauses


def sql_literal(value) -> str:
    text = str(value).replace("'", "''")
    return text if isinstance(value, (int, float)) and not isinstance(value, bool) else f"'{text}'"
