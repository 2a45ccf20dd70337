"""Where a MERGE source's keys can be in the target (lakehouse.sinks.scope): found over all the rows,
folded into another aggregate over only some of them (silver's quarantined rows), or observed while
the rows are checkpointed (silver's, computed once for the MERGE and review)."""
from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F

from lakehouse.sinks.delta import MergeSpec
from lakehouse.sinks.scope import Bound, Scope, checkpointed_with_scope, scope_facts, scope_of, source_scope

SPEC = MergeSpec(keys=("partition", "offset", "at"), insert_only=True, prune_column="day", bounded_by=("offset", "at"))
D1, D2 = dt.date(2024, 1, 31), dt.date(2024, 2, 1)
T1, T2 = dt.datetime(2024, 1, 31, 23, 59, 59, 123456), dt.datetime(2024, 2, 1, 0, 0, 1)


def rows(spark):
    schema = "partition int, offset long, at timestamp, day date, rejected boolean"
    return spark.createDataFrame([(0, 7, T2, D2, True), (1, 3, None, D1, True), (0, 1, T1, D1, False),
                                  (1, 9, T2, D2, False), (None, None, None, None, False)], schema)


def test_the_scope_of_all_rows_has_their_partitions_and_first_and_last_values(spark):
    scope = source_scope(rows(spark), SPEC)

    assert sorted(scope.partitions) == [D1, D2]
    assert scope.bounds == {"offset": Bound("1", "9", True), "at": Bound(str(T1), str(T2), True)}


def test_folded_into_another_aggregate_it_covers_only_the_rows_it_is_given(spark):
    facts = [F.count(F.lit(1))]
    found = rows(spark).agg(*facts, *scope_facts(SPEC, F.col("rejected"))).first()

    scope = scope_of(SPEC, found[len(facts):])

    assert found[0] == 5
    assert sorted(scope.partitions) == [D1, D2]
    assert scope.bounds == {"offset": Bound("3", "7", False), "at": Bound(str(T2), str(T2), True)}


def test_an_empty_source_has_no_partitions_and_no_bounds(spark):
    assert source_scope(rows(spark).limit(0), SPEC) == Scope((), {"offset": Bound(None, None), "at": Bound(None, None)})


@pytest.mark.parametrize("source", [rows, lambda spark: rows(spark).limit(0)], ids=["rows", "empty"])
def test_observed_while_the_rows_are_checkpointed_it_is_their_scope(spark, source):
    checkpointed, scope = checkpointed_with_scope(source(spark), SPEC)

    assert scope == source_scope(source(spark), SPEC)
    assert all(type(day) is dt.date for day in scope.partitions)
    assert sorted(map(str, checkpointed.collect())) == sorted(map(str, source(spark).collect()))


def test_a_spec_restricting_nothing_has_an_empty_scope(spark):
    checkpointed, scope = checkpointed_with_scope(rows(spark), MergeSpec(keys=("offset",), insert_only=True))

    assert scope == Scope()
    assert checkpointed.count() == 5
