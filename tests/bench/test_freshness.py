"""bench.freshness's percentiles over a phase and over its slices, on latencies as the Delta logs give them."""
from __future__ import annotations

import pyarrow as pa
import pytest

from bench.freshness import p99_by_slice, percentiles


def latencies(rows: list[tuple[int, int]]) -> pa.Table:
    """(sent at, latency) in milliseconds, one row per record."""
    return pa.table({"kafka_ms": pa.array([sent for sent, _ in rows], pa.int64()),
                     "latency_ms": pa.array([latency for _, latency in rows], pa.int64())})


def test_each_slice_of_a_phase_has_the_p99_of_the_records_sent_in_it():
    # A warming driver: 4 s of latency in the phase's first 30 s, then 2 s, then 1 s in a last, longer slice.
    rows = ([(1_000 + ms, 4_000) for ms in range(0, 30_000, 100)]
            + [(31_000 + ms, 2_000) for ms in range(0, 30_000, 100)]
            + [(61_000 + ms, 1_000) for ms in range(0, 40_000, 100)]
            + [(101_000, 9_000)])  # sent after the phase
    table = latencies(rows)

    assert p99_by_slice(table, 1_000, 101_000, 30.0) == pytest.approx([4.0, 2.0, 1.0])
    assert percentiles(table, 1_000, 101_000)["rows"] == 1_000


def test_a_phase_a_few_milliseconds_over_whole_slices_has_no_slice_of_its_own():
    table = latencies([(1_000 + ms, 2_000) for ms in range(0, 60_000, 100)] + [(61_002, 7_000)])

    assert p99_by_slice(table, 1_000, 61_005, 30.0) == pytest.approx([2.0, 2.0])


def test_a_slice_in_which_nothing_was_sent_has_no_p99():
    table = latencies([(1_000, 3_000), (70_000, 1_000)])

    assert p99_by_slice(table, 1_000, 91_000, 30.0) == [3.0, None, 1.0]


def test_a_phase_shorter_than_a_slice_is_one_slice():
    table = latencies([(1_000, 3_000), (5_000, 1_000)])

    assert p99_by_slice(table, 1_000, 11_000, 30.0) == [pytest.approx(2.98)]  # 1 s + 0.99 of the way to 3 s
