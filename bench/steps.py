"""The run order of the benchmark: each step produces one or more scenario/baseline ids.

Catch-up first (S1's rate sets S3's top rate), Spark's floor under it and its per-row cost part by
part, then the always-on jobs (S3, S7, S5 share one pair of jobs) and the floor under S3, the MERGE
cost, what metrics and lineage add to a small batch, the Postgres extract with its baselines and
floor, and a small batch's fixed cost with the floor under its writes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from bench.baselines import catchup as baseline_catchup
from bench.scenarios import always_on, catchup, extract, fixed_cost, floor, floor_freshness, merge, overhead, per_row

IDS = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "B1", "B2", "C0", "C1", "F1", "F2", "F3",
       "F6", "F7", "F8")


@dataclass(frozen=True)
class Step:
    title: str
    ids: tuple[str, ...]
    run: Callable  # (ctx, wanted ids) -> None; figures go to ctx.results


STEPS = (
    Step("S1 bronze catch-up", ("S1",), lambda ctx, _: catchup.run_s1(ctx)),
    Step("B1 per-partition Python consumers", ("B1",), lambda ctx, _: baseline_catchup.run_b1(ctx)),
    Step("S2 bronze + silver catch-up", ("S2",), lambda ctx, _: catchup.run_s2(ctx)),
    Step("B2 consumers + deltalake MERGE", ("B2",), lambda ctx, _: baseline_catchup.run_b2(ctx)),
    Step("F1, F2 Spark's floor under S1, S2", ("F1", "F2"), floor.run_catchup),
    Step("S10 steady per-row cost, part by part", ("S10",), per_row.run),
    Step("always-on jobs: S3 freshness, S7 restart, S5 small files, F7 Spark's floor under S7",
         ("S3", "S7", "S5", "F7"), always_on.run),
    Step("F3 Spark's floor under S3", ("F3",), floor_freshness.run),
    Step("S4 MERGE cost", ("S4",), merge.run),
    Step("S9 metrics and lineage overhead", ("S9",), overhead.run),
    Step("S6 Postgres extract with C0, C1 and Spark's floor F6", ("C0", "C1", "S6", "F6"), extract.run),
    Step("S8 small micro-batch fixed cost", ("S8",), fixed_cost.run),
    Step("F8 Spark's floor under S8's steps", ("F8",), floor.run_small_steps),
)
