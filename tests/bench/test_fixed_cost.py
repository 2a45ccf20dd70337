"""S8's phases of one batch and its warm-up line (bench.scenarios.fixed_cost)."""
from __future__ import annotations

import pytest

from bench.scenarios.fixed_cost import flat_phases, print_warmup


def test_silver_phases_split_addbatch_and_print_work_beside_the_handler_out_of_its_sum():
    batch = {"total_s": 1.4, "spark_jobs_s": 0.6, "phases": {"walCommit": 0.04, "addBatch": 1.3},
             "handler": {"total_s": 1.2, "phases": {"batch_counts": 0.1, "silver_merge/execute_commit": 0.5,
                                                    "quarantine_wait": 0.1, "quality_append": 0.3},
                         "beside": {"quarantine/execute_commit": 0.6}}}
    phases = flat_phases(batch)
    assert phases["addBatch (outside the handler)"] == pytest.approx(0.1)
    assert phases["handler: other"] == pytest.approx(0.2), "what runs beside is not taken out of the handler's time"
    assert phases["beside the handler: quarantine/execute_commit"] == 0.6


def test_bronze_phases_split_addbatch_into_spark_jobs_and_the_driver():
    phases = flat_phases({"total_s": 0.4, "spark_jobs_s": 0.15, "phases": {"addBatch": 0.3}})
    assert phases["addBatch: Spark jobs"] == 0.15
    assert phases["addBatch: driver (plan, Delta log, commit)"] == pytest.approx(0.15)


def test_warmup_line_gives_each_warmup_batch_and_the_jit_time_per_round_then_and_measured(capsys):
    warmup = [{"bronze_s": 1.5, "silver_s": 4.83, "jit_ms": 5200}, {"bronze_s": 0.5, "silver_s": 1.99, "jit_ms": 900},
              {"bronze_s": 0.4, "silver_s": 1.46, "jit_ms": 700}]
    print_warmup("user_events", warmup, [{"jit_ms": 40}, {"jit_ms": 10}, {"jit_ms": 30}])
    line = capsys.readouterr().out
    assert "silver batches 4.83 1.99 1.46 s (not kept)" in line
    assert "900 ms per round (median) then, 30 ms in the measured rounds" in line


def test_no_warmup_line_without_warmup_rounds(capsys):
    print_warmup("user_events", [], [{"jit_ms": 40}])
    assert capsys.readouterr().out == ""
