"""kafka_to_silver's flags: one set of contracts and one trigger for bronze and silver, mistakes named."""
from __future__ import annotations

import pytest

from jobs.streaming.kafka_to_silver import add_arguments
from lakehouse.runtime.entrypoint import common_parser
from lakehouse.schemas import CONTRACTS
from lakehouse.streaming.options import BronzeOptions, SilverOptions, Trigger, pipeline_options
from tests.conftest import local_config


def options(*argv: str):
    return pipeline_options(local_config(), common_parser("kafka_to_silver", add_arguments).parse_args(argv))


def refused(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        common_parser("kafka_to_silver", add_arguments).parse_args(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_by_default_every_contract_runs_in_both_layers_with_the_configured_trigger():
    cfg = local_config()
    bronze, silver = options()
    every = Trigger(cfg.streaming.trigger, cfg.streaming.processing_time)
    assert bronze == BronzeOptions(tuple(CONTRACTS.values()), every, cfg.streaming.max_offsets_per_trigger,
                                   cfg.streaming.min_partitions, None, None, None)
    assert silver == SilverOptions(tuple(CONTRACTS.values()), every, cfg.streaming.silver_max_files_per_trigger)


def test_flags_reach_the_layer_they_belong_to():
    bronze, silver = options("--topics", "transaction_events,user_events", "--trigger", "processing-time",
                             "--processing-time", "3 seconds", "--max-offsets-per-trigger", "100",
                             "--min-partitions", "4", "--starting-offsets", "latest", "--max-files-per-trigger", "7")
    chosen = (CONTRACTS["transaction_events"], CONTRACTS["user_events"])
    every = Trigger("processing-time", "3 seconds")
    assert bronze == BronzeOptions(chosen, every, 100, 4, "latest", None, None)
    assert silver == SilverOptions(chosen, every, 7)


@pytest.mark.parametrize("flag", ["--backfill-from", "--backfill-until", "--tables"])
def test_flags_of_one_job_only_are_refused(capsys, flag):
    assert f"unrecognized arguments: {flag} x" in refused(capsys, flag, "x")


def test_accepting_a_recreated_topic_stays_with_kafka_to_bronze(capsys):
    assert "unrecognized arguments: --accept-recreated-topic" in refused(capsys, "--accept-recreated-topic")


@pytest.mark.parametrize("flag", ["--max-offsets-per-trigger", "--min-partitions", "--max-files-per-trigger"])
def test_batch_sizes_below_one_are_refused(capsys, flag):
    assert f"argument {flag}: must be at least 1, got 0" in refused(capsys, flag, "0")


def test_an_interval_for_the_available_now_trigger_is_refused():
    with pytest.raises(ValueError, match=r"--processing-time '3 seconds' applies to --trigger processing-time; "
                                         r"this run's trigger is available-now"):
        options("--trigger", "available-now", "--processing-time", "3 seconds")


def test_unknown_contracts_are_named():
    with pytest.raises(ValueError, match=r"unknown topic\(s\) clicks; known: user_events"):
        options("--topics", "user_events,clicks")
