"""bench.job_phases on a run's events as streaming_job.py writes them: the phases add up to the wall time."""
from __future__ import annotations

import datetime as dt

import pytest

from bench.job_phases import batch_rates, batch_stats, quantile, run_phases, steady_rate
from bench.scenarios.restart import restart_phases

LAUNCHED = 1_000.0


def iso(epoch_s: float) -> str:
    return dt.datetime.fromtimestamp(epoch_s, dt.timezone.utc).isoformat().replace("+00:00", "Z")


def progress(query: str, batch_id: int, rows: int, began: float, seconds: float, add_batch: float) -> dict:
    durations = {"latestOffset": 10, "addBatch": add_batch * 1000, "walCommit": 20, "triggerExecution": seconds * 1000}
    return {"event": "progress", "query": query, "batch_id": batch_id, "rows": rows, "trigger_started": iso(began),
            "durations_ms": durations, "at": began + seconds}


def run_events() -> list[dict]:
    return [
        {"event": "process", "started_at": LAUNCHED + 2.0, "at": LAUNCHED + 2.5},
        {"event": "spark_ready", "at": LAUNCHED + 5.0},
        {"event": "record", "label": "start", "batch_id": -1, "started_at": LAUNCHED + 5.0, "total_s": 3.0,
         "phases": {"ensure_table": 1.0, "start_position": 1.5}},
        progress("bronze.user_events", 0, 100, LAUNCHED + 8.5, 4.0, 3.0),
        progress("bronze.user_events", 1, 300, LAUNCHED + 13.0, 2.0, 1.5),
        progress("bronze.user_events", 2, 300, LAUNCHED + 15.0, 1.0, 0.5),
        {"event": "queries_done", "at": LAUNCHED + 16.2},
        {"event": "spark_stopped", "at": LAUNCHED + 17.0},
    ]


def test_a_run_is_split_into_start_up_batches_and_end_adding_up_to_its_wall_time():
    phases = run_phases(run_events(), "bronze.", LAUNCHED, LAUNCHED + 18.0)
    assert phases == pytest.approx({
        "launch": 2.0, "imports": 0.5, "spark_start": 2.5, "ensure_table": 1.0, "start_position": 1.5,
        "start_other": 0.5, "query_init": 0.5, "first batch (100 rows)": 4.0,
        "batches 2-3: between batches": 0.5, "batches 2-3: latestOffset": 0.02, "batches 2-3: getBatch": 0.0,
        "batches 2-3: queryPlanning": 0.0, "batches 2-3: walCommit": 0.04, "batches 2-3: addBatch": 2.0,
        "batches 2-3: commitOffsets": 0.0, "batches 2-3: other": 0.94, "stop": 1.0, "exit": 1.0,
    })
    assert sum(phases.values()) == pytest.approx(18.0)


def test_the_later_batches_rate_counts_their_rows_over_their_time():
    assert steady_rate(run_events(), "bronze.") == pytest.approx(600 / 3.5)  # from the first batch's end
    assert steady_rate(run_events()[:4], "bronze.") is None  # one batch: no later ones


def test_each_batch_rate_counts_its_rows_over_its_own_time():
    assert batch_rates(run_events(), "bronze.") == pytest.approx([25.0, 150.0, 300.0])
    assert batch_rates(run_events(), "silver.") == []


def test_batch_stats_cover_the_batches_triggered_in_the_window():
    stats = batch_stats(run_events(), "bronze.", LAUNCHED + 13, LAUNCHED + 20)  # ended in the window
    assert stats == pytest.approx({"batches": 2, "p50_s": 1.5, "p99_s": 1.99, "max_s": 2.0, "add_batch_p50_s": 1.0,
                                   "every_p50_s": 2.0})
    assert batch_stats(run_events(), "silver.", LAUNCHED, LAUNCHED + 20) == {"batches": 0}


def test_quantile_interpolates_like_numpy():
    assert quantile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert quantile([5.0], 0.99) == 5.0


def test_a_restart_adds_up_to_the_kill_to_commit_time_with_a_trigger_wait_between_batches():
    events = [
        *run_events()[:3],
        progress("silver.user_events", 7, 0, LAUNCHED + 8.5, 0.25, 0.1),   # re-run: nothing new committed
        progress("silver.user_events", 8, 50, LAUNCHED + 9.5, 2.0, 1.5),   # the next trigger, 0.75 s later
    ]
    phases = restart_phases(events, "silver.", LAUNCHED, LAUNCHED + 11.0)
    assert list(phases)[-3:] == ["batch 7 (0 rows, nothing new committed)", "until batch 8's trigger",
                                 "batch 8 (50 rows, until its commit)"]
    assert phases["until batch 8's trigger"] == pytest.approx(0.75)
    assert sum(phases.values()) == pytest.approx(11.0)


def test_a_one_driver_restart_shows_silver_s_start_up_before_bronze_s_first_batch():
    events = [
        *run_events()[:3],  # bronze's start-up ends at +8.0
        {"event": "record", "label": "start silver", "batch_id": -1, "started_at": LAUNCHED + 8.0, "total_s": 2.0,
         "phases": {"start_position": 1.75}},
        progress("bronze.user_events", 5, 100, LAUNCHED + 10.5, 1.5, 1.0),
    ]
    phases = restart_phases(events, "bronze.", LAUNCHED, LAUNCHED + 12.0)
    assert (phases["silver start_position"], phases["query_init"]) == pytest.approx((1.75, 0.5))
    assert sum(phases.values()) == pytest.approx(12.0)


def test_silver_later_batches_split_addbatch_into_the_handlers_phases():
    events = [event | {"query": "silver.user_events <- bronze.user_events"} if event["event"] == "progress" else event
              for event in run_events()]
    events[5:5] = [  # batch 1's and batch 2's handler records (foreachBatch), 1.5 s and 0.5 s of addBatch
        {"event": "record", "label": "silver.user_events", "batch_id": 1, "started_at": LAUNCHED + 13.2,
         "total_s": 1.25, "phases": {"read_parse_fx": 0.5, "silver_merge": 0.5}},
        {"event": "record", "label": "silver.user_events", "batch_id": 2, "started_at": LAUNCHED + 15.1,
         "total_s": 0.25, "phases": {"read_parse_fx": 0.125, "quarantine": 0.05}},
    ]
    phases = run_phases(events, "silver.", LAUNCHED, LAUNCHED + 18.0)
    assert "batches 2-3: addBatch" not in phases
    assert {name: seconds for name, seconds in phases.items() if "addBatch" in name} == pytest.approx({
        "batches 2-3: addBatch: handler read_parse_fx": 0.625, "batches 2-3: addBatch: handler silver_merge": 0.5,
        "batches 2-3: addBatch: handler quarantine": 0.05, "batches 2-3: addBatch: handler other": 0.325,
        "batches 2-3: addBatch: outside the handler": 0.5,
    })
    assert sum(phases.values()) == pytest.approx(18.0)
