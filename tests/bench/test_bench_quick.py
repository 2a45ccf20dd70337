"""`make bench QUICK=1` as a test: every scenario and baseline on tiny sizes, so the harness cannot rot.

The figures of a quick run mean nothing (start-up dominates); the test checks that every scenario
and baseline ran against the real jobs and services, reported positive figures, and that the
table compares each of our figures with its baseline. Goals are never asserted.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

IDS = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "B1", "B2", "C0", "C1", "F1", "F2", "F3",
       "F6", "F7", "F8")
# A hang guard, not a goal: the run took 12 minutes alone and 19 beside the other lane (2026-12-04),
# and CI machines are up to twice as slow on a bad day.
QUICK_RUN_TIMEOUT_S = 2400
pytestmark = pytest.mark.timeout(QUICK_RUN_TIMEOUT_S + 60)  # the run is in the fixture: above pytest's 300 s


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, kafka_service, postgres_service, s3_service) -> dict:
    out = tmp_path_factory.mktemp("bench-results")
    done = subprocess.run([sys.executable, "bench/run.py", "--quick", "--out", str(out)], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=QUICK_RUN_TIMEOUT_S)
    assert done.returncode == 0, f"bench/run.py --quick failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    [path] = out.glob("*.json")
    return {"document": json.loads(path.read_text()), "stdout": done.stdout}


def _positive(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


@pytest.mark.slow
def test_every_scenario_and_baseline_reports_figures(quick_run):
    document = quick_run["document"]
    results = document["results"]
    assert document["errors"] == {}
    assert sorted(results) == sorted(IDS)
    for key in ("S1", "B1"):
        assert results[key]["events"] > 0
        assert _positive(results[key]["events_per_s"])
        assert _positive(results[key]["peak_mb"])
    # Catch-up runs phase by phase: the phases add up to the run's wall time.
    # Each phase is the time between two recorded moments: a negative one means events out of order.
    for phases, wall_s in ((results["S1"]["phases"], results["S1"]["wall_s"]),
                           (results["S2"]["silver_phases"], results["S2"]["silver_s"])):
        assert abs(sum(phases.values()) - wall_s) < 0.5
        assert min(phases.values()) >= 0, phases
    assert _positive(results["S1"]["steady_events_per_s"])
    assert results["S1"]["batch_rows_per_s"]
    assert all(_positive(rate) for rate in results["S1"]["batch_rows_per_s"])
    # S2's later batches split addBatch into the silver handler's phases.
    assert "batches 2-3: addBatch: handler read_parse_fx" in results["S2"]["silver_phases"]
    # S10: every part, bronze's and silver's, ran over the same records (S1's first ones, by partition).
    parts = results["S10"]["parts"]
    assert {part["group"] for part in parts.values()} == {"bronze", "silver"}
    (rows,) = {part["rows"] for part in parts.values()}
    assert 0 < rows <= results["S10"]["rows"]
    assert all(_positive(part["rows_per_s"]) for part in parts.values())
    for key in ("S2", "B2"):
        assert results[key]["rows_match"] is True
        assert results[key]["silver_rows"] == results[key]["expected_distinct"] > 0
        assert _positive(results[key]["events_per_s"])
    # S3 ran on the two jobs (the sizes' default), though S7 then restarts the queries in one driver.
    assert results["S3"]["mode"] == "two drivers"
    # F3, Spark's floor under S3, ran S3's rates; its bronze held every record and its silver each id once.
    assert [phase["rate"] for phase in results["F3"]["phases"]] == [phase["rate"] for phase in results["S3"]["phases"]]
    assert results["F3"]["records"] >= results["F3"]["silver_rows"] == results["F3"]["distinct"] > 0
    for phase in results["S3"]["phases"] + results["F3"]["phases"]:
        for table in ("bronze", "silver"):
            assert phase[table]["rows"] > 0
            assert _positive(phase[table]["p99_s"])
            assert phase[table]["p99_s"] >= phase[table]["p50_s"]
            assert phase["batches"][table]["batches"] > 0
            assert phase["batches"][table]["p99_s"] >= phase["batches"][table]["p50_s"] > 0
            # A quick phase (5 s) is one slice of the p99 per 30 s, the phase's own p99.
            assert phase["p99_by_slice"][table] == [phase[table]["p99_s"]]
    for target in results["S4"]["targets"]:
        assert sorted(target["variants"]) == ["no_pruning", "partition_pruning", "pruning_deletion_vectors"]
        for variant in target["variants"].values():
            for size in variant.values():
                assert _positive(size["median_ms"])
                assert all(m["numTargetRowsInserted"] > 0 for m in size["metrics"])
                assert all(m["numTargetRowsUpdated"] > 0 for m in size["metrics"])
    assert results["S5"]["always_on_bronze_files_per_batch"]["max"] >= 1
    assert results["S5"]["bronze_after"]["files"] <= results["S5"]["bronze_before"]["files"]
    assert results["S6"]["rows"] == results["C0"]["rows"] == results["C1"]["rows"] > 0
    assert _positive(results["S6"]["incremental_wall_s"])
    assert results["C1"]["incremental_rows"] == results["S6"]["incremental_rows"] > 0
    assert results["C1"]["incremental_updated"] == results["C1"]["incremental_rows"]
    for run, wall in (("full_refresh", "full_wall_s"), ("incremental", "incremental_wall_s"),
                      ("empty", "empty_wall_s")):
        phases = results["S6"]["phases"][run]  # launch, the job's phases, other, exit: its wall time
        assert min(phases.values()) >= 0, (run, phases)
        assert abs(sum(phases.values()) - results["S6"][wall]) < 0.1, (run, phases)
    assert _positive(results["S6"]["empty_wall_s"])
    # Spark's floors did the figures' work on the same data, and their phases add up to their wall time.
    assert results["F1"]["events"] == results["S1"]["events"]
    assert results["F2"]["silver_rows"] == results["S2"]["silver_rows"]
    assert results["F6"]["rows"] == results["S6"]["rows"]
    assert results["F6"]["incremental_rows"] == results["S6"]["incremental_rows"]
    for phases, wall_s in ((results["F1"]["phases"], results["F1"]["wall_s"]),
                           (results["F2"]["silver_phases"], results["F2"]["silver_s"]),
                           (results["F6"]["full_phases"], results["F6"]["full_wall_s"]),
                           (results["F6"]["incremental_phases"], results["F6"]["incremental_wall_s"])):
        assert min(phases.values()) >= 0, phases
        assert abs(sum(phases.values()) - wall_s) < 0.1, phases
    assert sorted(results["F7"]["tables"]) == ["bronze", "quality results", "quarantine", "silver"]
    assert 0 < results["F7"]["bronze_s"] < results["F7"]["silver_s"] < results["F7"]["wall_s"]
    assert sorted(results["F7"]["first_writes"]) == ["append", "merge"]
    assert all(_positive(seconds) for seconds in results["F7"]["first_writes"].values())
    assert 1 <= results["F7"]["merge_inserted"] <= min(10, results["F7"]["merge_into_rows"])
    # F7's streams were killed and restarted as S7's queries (their rows checked exactly once by the bench).
    assert results["F7"]["streams_records"] > 0
    assert results["F7"]["streams_silver_held"] > 0
    for name in ("streams_bronze_restart_s", "streams_silver_restart_s"):
        phases = results["F7"][name.replace("restart_s", "phases")]
        assert _positive(results["F7"][name])
        assert list(phases)[:4] == ["launch", "imports", "spark_start", "query_start"]
        assert abs(sum(phases.values()) - results["F7"][name]) < 0.1
    handlers = results["F7"]["streams_silver_handlers"]  # the restarted silver's, up to its first MERGE
    assert handlers
    assert "merge" in handlers[-1]["phases"]
    assert all(len(values) == results["F8"]["rounds"] > 0 for values in results["F8"]["seconds"].values())
    steps = ("lookup", "merge", "read_back", "append")
    assert sorted(results["F8"]["seconds"]) == sorted(steps)
    assert all(_positive(results["F8"][f"{step}_median_s"]) for step in steps)
    in_turn = ("lookup", "merge", "read_back", "merge", "append")  # a transaction batch's steps
    assert abs(results["F8"]["transaction_steps_s"] - sum(results["F8"][f"{step}_median_s"] for step in in_turn)) < 1e-9
    for name in ("bronze_restart_s", "silver_restart_s", "one_driver_bronze_restart_s", "one_driver_silver_restart_s"):
        assert _positive(results["S7"][name])
        phases = results["S7"][name.replace("restart_s", "phases")]  # from the kill to the commit, in order
        assert abs(sum(phases.values()) - results["S7"][name]) < 0.1
    for jobs in results["S8"]["contracts"].values():
        for job, main_phase in (("bronze", "addBatch: Spark jobs"), ("silver", "handler: silver_merge/execute_commit")):
            assert jobs[job]["batches"] >= 1
            assert _positive(jobs[job]["median_s"])
            assert _positive(jobs[job]["phases"][main_phase]["median_s"])
        assert _positive(jobs["silver"]["classes_compiled"])  # the quick run's one round is its first: cold
    for contract, batches in results["S8"]["batches"].items():
        assert results["S8"]["warmup"][contract] == []  # no warm-up round in a quick run
        assert all(_positive(batch["jit_ms"]) for batch in batches["silver"])  # cold: the JIT compiles
    for side in ("off", "on", "every"):
        assert len(results["S9"][side]["batch_ms"]) == results["S9"]["batches_per_block"] > 0
        assert _positive(results["S9"][side]["median_ms"])
        assert _positive(results["S9"][side]["cpu_per_batch_ms"])
    assert {"RowsIn", "RowsWritten", "BatchDuration"} <= set(results["S9"]["metrics_sent"])
    assert results["S9"]["on"]["lineage_events"] > 0 == results["S9"]["off"]["lineage_events"]


@pytest.mark.slow
def test_table_compares_each_figure_with_its_baseline(quick_run):
    document = quick_run["document"]
    rows = document["table"]
    compared = {(row["id"], row["baseline"]) for row in rows if row["ratio"] is not None}
    for pair in (("S1", "B1"), ("S2", "B2"), ("S10", "B1"), ("S10", "B2 silver step"), ("S6", "C0"), ("S6", "C1"),
                 ("S6", "C1-incremental"), ("S4", "no pruning"), ("S9", "off"), ("F1", "B1"), ("S1", "F1"),
                 ("F2", "B2"), ("S2", "F2"), ("F6", "C0"), ("F6", "C1"), ("F6", "C1-incremental"), ("S6", "F6"),
                 ("S3", "F3"), ("S7", "F7"), ("S7", "F7 streams"), ("S8", "F8 merge"), ("S8", "F8 append")):
        assert pair in compared, f"no ratio of {pair[0]} to {pair[1]}"
    for row in rows:
        if row["baseline"] is not None and row["ours"] is not None:
            assert _positive(row["ratio"]), row
        if row["goal"] and row["ours"] is not None:
            assert row["met"] in (True, False), row
    assert {row["id"] for row in rows} == set(IDS) - {"B1", "C0", "C1"}
    assert "ratio" in quick_run["stdout"]
    assert "goal" in quick_run["stdout"]


@pytest.mark.slow
def test_results_record_machine_versions_and_config(quick_run):
    document = quick_run["document"]
    assert document["quick"] is True
    assert document["machine"]["cpus"] >= 1
    assert document["versions"]["pyspark"]
    assert document["versions"]["deltalake"]
    assert document["config"]["sizes"]["events"] == document["results"]["S1"]["events"]
