"""Pure guards of the streaming jobs: data-loss ranges, start positions, backfill chunks, options."""
from __future__ import annotations

import argparse

import pytest

from lakehouse.kafka.offsets import PartitionRange
from lakehouse.streaming.backfill import plan_chunks
from lakehouse.streaming.options import bronze_options, silver_options
from lakehouse.streaming.preflight import DataLossError, check_checkpoint_offsets, lost_ranges
from lakehouse.streaming.start import parse_time_ms, resolve_offsets
from tests.conftest import local_config

AVAILABLE = {0: PartitionRange(10, 50), 1: PartitionRange(0, 5), 2: PartitionRange(30, 30)}


def test_lost_ranges_are_what_the_reader_needs_below_the_earliest_offset():
    assert [r.describe() for r in lost_ranges({0: 4, 1: 0, 2: 29}, AVAILABLE)] == [
        "partition 0 offsets 4..9 (6 records)", "partition 2 offsets 29..29 (1 record)",
    ]
    assert lost_ranges({0: 10, 1: 5, 2: 30}, AVAILABLE) == []  # edge: exactly at the earliest offset


def test_the_checkpoint_check_names_topic_partitions_and_ranges():
    with pytest.raises(DataLossError) as info:
        check_checkpoint_offsets("user_events", "/cp", {0: 4, 1: 5}, AVAILABLE)
    message = str(info.value)
    assert message.startswith("Kafka topic user_events no longer holds records checkpoint /cp has not read yet: ")
    # partition 2 is new to the checkpoint: it is read from 0, and 0..29 are gone
    assert "partition 0 offsets 4..9 (6 records); partition 2 offsets 0..29 (30 records)" in message
    check_checkpoint_offsets("user_events", "/cp", {0: 10, 1: 5, 2: 30}, AVAILABLE)


def test_a_checkpoint_ahead_of_the_topic_means_the_topic_was_recreated():
    with pytest.raises(DataLossError, match=r"ahead of Kafka topic t \(partition 1 at 9 > end 5\)"):
        check_checkpoint_offsets("t", "/cp", {0: 10, 1: 9, 2: 30}, AVAILABLE)
    with pytest.raises(DataLossError, match=r"has no partition\(s\) 3"):
        check_checkpoint_offsets("t", "/cp", {3: 0}, AVAILABLE)


def test_start_positions_resolve_to_one_offset_per_partition():
    cfg = local_config()
    assert resolve_offsets(cfg, "t", "earliest", AVAILABLE) == {0: 10, 1: 0, 2: 30}
    assert resolve_offsets(cfg, "t", "latest", AVAILABLE) == {0: 50, 1: 5, 2: 30}
    assert resolve_offsets(cfg, "t", '{"t": {"0": 12}}', AVAILABLE) == {0: 12, 1: 0, 2: 30}
    with pytest.raises(ValueError, match=r"outside 0\.\.end"):
        resolve_offsets(cfg, "t", '{"t": {"1": 6}}', AVAILABLE)
    with pytest.raises(ValueError, match=r"partitions \[9\] that topic t does not have"):
        resolve_offsets(cfg, "t", '{"t": {"9": 0}}', AVAILABLE)
    assert parse_time_ms("2024-06-01T00:00:00Z") == parse_time_ms("1717200000000") == 1717200000000
    with pytest.raises(ValueError, match="expected earliest, latest"):
        parse_time_ms("last tuesday")


def test_backfill_chunks_cover_every_offset_once_and_respect_the_size():
    ranges = {0: (0, 7), 1: (100, 103), 2: (5, 5)}
    chunks = plan_chunks(ranges, 4)
    assert chunks == [{0: (0, 4)}, {0: (4, 7), 1: (100, 101)}, {1: (101, 103)}]
    assert plan_chunks({}, 4) == []


def test_flags_override_the_config_and_unknown_names_are_refused():
    cfg = local_config()
    args = argparse.Namespace(topics="transaction_events", trigger="available-now", max_offsets_per_trigger=7,
                              starting_offsets="latest")
    options = bronze_options(cfg, args)
    assert [c.name for c in options.contracts] == ["transaction_events"]
    assert options.trigger.spark_options() == {"availableNow": True}
    assert (options.max_offsets_per_trigger, options.starting_offsets) == (7, "latest")
    defaults = silver_options(cfg, argparse.Namespace(tables="transactions"))
    assert defaults.trigger.spark_options() == {"processingTime": cfg.streaming.processing_time}
    assert [c.name for c in defaults.contracts] == ["transaction_events"]
    with pytest.raises(ValueError, match=r"unknown topic\(s\) clicks"):
        bronze_options(cfg, argparse.Namespace(topics="clicks"))
    with pytest.raises(ValueError, match="go together"):
        bronze_options(cfg, argparse.Namespace(backfill_from="earliest"))
