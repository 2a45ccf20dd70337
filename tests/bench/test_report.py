"""bench.report: S3's freshness rows and F8's step rows, with their goals, from a run's figures."""
from __future__ import annotations

from types import SimpleNamespace

from bench.context import Results
from bench.report import rows_for
from bench.sizes import sizes_for


def freshness(rate: float, maximum: float, bronze_p99: float, silver_p99: float) -> dict:
    return {"rate": rate, "share_of_max": rate / maximum,
            "bronze": {"p50_s": bronze_p99 / 2, "p99_s": bronze_p99},
            "silver": {"p50_s": silver_p99 / 2, "p99_s": silver_p99}}


def test_s3_goals_are_judged_at_every_rate_including_a_rounded_share_of_s1s_rate():
    # 20% of S1's measured rate, rounded to whole events per second as bench.scenarios.always_on does.
    maximum = 166_017.0
    results = Results()
    results.put("S3", mode="two drivers", phases=[freshness(5_000.0, maximum, 2.9, 12.9),
                                                  freshness(float(round(0.2 * maximum)), maximum, 3.4, 52.3)])
    rows = rows_for(SimpleNamespace(results=results, sizes=sizes_for(quick=False)), ["S3"])
    judged = {(row.figure, row.met) for row in rows if row.goal is not None}
    assert judged == {("bronze freshness p99 at 5,000/s", True), ("silver freshness p99 at 5,000/s", False),
                      ("bronze freshness p99 at 33,203/s", False), ("silver freshness p99 at 33,203/s", False)}


def test_s3s_p99_is_compared_with_its_floor_at_the_same_rate():
    maximum = 100_000.0
    results = Results()
    results.put("S3", mode="two drivers", phases=[freshness(5_000.0, maximum, 3.0, 12.0)])
    results.put("F3", mode="two drivers", phases=[freshness(5_000.0, maximum, 2.0, 4.0),
                                                  freshness(20_000.0, maximum, 2.5, 8.0)])
    rows = rows_for(SimpleNamespace(results=results, sizes=sizes_for(quick=False)), ["S3", "F3"])
    ratios = {row.figure: row.ratio for row in rows if row.baseline == "F3"}
    assert ratios == {"bronze freshness p99 at 5,000/s against Spark's floor": 1.5,
                      "silver freshness p99 at 5,000/s against Spark's floor": 3.0}
    floors = {(row.figure, row.met) for row in rows if row.id == "F3"}
    assert ("Spark's floor under S3: silver freshness p99 at 20,000/s, two drivers", False) in floors
    assert ("Spark's floor under S3: bronze freshness p99 at 20,000/s, two drivers", True) in floors


def test_f8_judges_a_transaction_batchs_steps_in_turn_against_s8s_goal():
    results = Results()
    results.put("F8", lookup_median_s=0.3, merge_median_s=0.4, read_back_median_s=0.2, append_median_s=0.25,
                transaction_steps_s=1.55)
    phases = {"handler: dedup_velocity_shape": {"median_s": 0.9}, "handler: review": {"median_s": 0.6}}
    results.put("S8", rows_per_batch=10, contracts={"transaction_events": {"silver": {"median_s": 3.1, "goal_s": 1.5,
                                                                                   "phases": phases}}})
    rows = rows_for(SimpleNamespace(results=results, sizes=sizes_for(quick=False)), ["S8", "F8"])
    judged = {row.figure: row.met for row in rows if row.id == "F8" and row.goal is not None}
    assert judged == {"Spark's floor under S8's transaction_events batch: its steps in turn (look-up, MERGE, "
                      "read back, MERGE, append)": False}
    ratios = {row.baseline: round(row.ratio, 2) for row in rows if row.id == "S8" and row.baseline}
    assert ratios == {"F8 steps": 2.0, "F8 lookup": 3.0, "F8 read_back": 3.0}
