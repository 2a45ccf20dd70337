"""lakehouse.ops.phases: per-batch phase times, recorded only while a recorder is installed."""
from __future__ import annotations

import threading
import time

import pytest

from lakehouse.ops import phases


@pytest.fixture
def records():
    kept = []
    phases.install(kept.append)
    yield kept
    phases.install(None)


def test_nested_phases_are_recorded_under_their_path_with_their_own_time(records):
    with phases.batch("silver.t", 7):
        with phases.phase("merge"):
            time.sleep(0.02)
            with phases.phase("commit"):
                time.sleep(0.05)
        with phases.phase("merge"):
            pass
    [record] = records
    assert (record["label"], record["batch_id"]) == ("silver.t", 7)
    assert sorted(record["phases"]) == ["merge", "merge/commit"]
    assert 0.015 < record["phases"]["merge"] < 0.045
    assert record["phases"]["merge/commit"] >= 0.045
    assert record["total_s"] >= sum(record["phases"].values())


def test_nothing_is_recorded_without_a_recorder_or_outside_a_batch(records):
    with phases.phase("outside"):
        pass
    phases.install(None)
    with phases.batch("silver.t", 1), phases.phase("merge"):
        pass
    assert records == []


def test_concurrent_batches_on_other_threads_do_not_mix(records):
    def run(label):
        with phases.batch(label, 0), phases.phase(label):
            time.sleep(0.01)

    threads = [threading.Thread(target=run, args=(f"q{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((r["label"], list(r["phases"])) for r in records) == [(f"q{n}", [f"q{n}"]) for n in range(3)]


def test_work_carried_to_another_thread_records_its_phases_in_the_callers_batch_apart(records):
    with phases.batch("silver.t", 3), phases.phase("silver_merge"):
        def quarantine():
            with phases.phase("quarantine"), phases.phase("execute_commit"):
                time.sleep(0.02)

        thread = threading.Thread(target=phases.carried(quarantine))
        thread.start()
        thread.join()
    [record] = records
    assert sorted(record["beside"]) == ["quarantine", "quarantine/execute_commit"]
    assert record["beside"]["quarantine/execute_commit"] >= 0.015
    assert list(record["phases"]) == ["silver_merge"]
    assert record["phases"]["silver_merge"] >= 0.015, "work beside a phase overlaps it: not taken out of it"


def test_carried_work_is_left_as_it_is_without_an_open_batch(records):
    def work():
        return 42

    assert phases.carried(work) is work
