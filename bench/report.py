"""The results table (each figure of ours with its baseline, the ratio and the goal) and the JSON file.

Ratios are always ours / baseline; the goal says which direction is good. Goals are printed,
never asserted: a run that misses one still writes its results.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bench.context import BenchContext
from bench.environment import config_summary, machine, versions
from bench.harness import ROOT
from bench.scenarios.fixed_cost import GOALS_S as SMALL_BATCH_GOALS_S


@dataclass
class Row:
    id: str
    figure: str
    ours: Optional[float]
    unit: str
    baseline: Optional[str] = None        # what the figure is compared with (B1, C0, "no pruning", ...)
    baseline_value: Optional[float] = None
    goal: Optional[str] = None
    met: Optional[bool] = None
    ratio: Optional[float] = None

    def __post_init__(self):
        if self.ours is not None and self.baseline_value:
            self.ratio = self.ours / self.baseline_value


def at_least(ratio: float):
    return lambda row: None if row.ratio is None else row.ratio >= ratio


def ratio_below(ratio: float):
    return lambda row: None if row.ratio is None else row.ratio < ratio


def at_most(value: float):
    return lambda row: None if row.ours is None else row.ours <= value


def _goal(row: Row, text: str, check) -> Row:
    row.goal, row.met = text, check(row)
    return row


def rows_for(ctx: BenchContext, selected: list[str]) -> list[Row]:
    f = ctx.results.figures
    g = ctx.results.get
    rows: list[Row] = []
    if "S1" in f:
        rows.append(_goal(Row("S1", "bronze catch-up", g("S1", "events_per_s"), "events/s", "B1",
                              g("B1", "events_per_s")), ">= 1.0x B1", at_least(1.0)))
        rows.append(Row("S1", "bronze catch-up, batches after the first", g("S1", "steady_events_per_s"), "events/s",
                        "B1", g("B1", "events_per_s")))
        rows.append(Row("S1", "bronze peak memory", g("S1", "peak_mb"), "MiB", "B1", g("B1", "peak_mb")))
    if "S2" in f:
        rows.append(_goal(Row("S2", "bronze + silver catch-up", g("S2", "events_per_s"), "events/s", "B2",
                              g("B2", "events_per_s")), ">= 1.0x B2", at_least(1.0)))
        rows.append(Row("S2", "silver catch-up, batches after the first", g("S2", "silver_steady_rows_per_s"),
                        "rows/s", "B2 silver step", b2_silver_rows_per_s(ctx)))
        rows.append(_goal(Row("S2", "silver rows", g("S2", "silver_rows"), "rows", "distinct ids",
                              g("S2", "expected_distinct")), "= distinct ids", lambda r: g("S2", "rows_match")))
    if "B2" in f:
        rows.append(_goal(Row("B2", "B2 silver rows", g("B2", "silver_rows"), "rows", "distinct ids",
                              g("B2", "expected_distinct")), "= distinct ids", lambda r: g("B2", "rows_match")))
    rows += _catchup_floor_rows(ctx)
    rows += _per_row_rows(ctx)
    rows += _freshness_rows(ctx)
    rows += _freshness_floor_rows(ctx)
    rows += _merge_rows(ctx)
    rows += _small_file_rows(ctx)
    if "S6" in f:
        ours = g("S6", "rows_per_s")
        rows.append(_goal(Row("S6", "full extract (job time)", ours, "rows/s", "C0", g("C0", "rows_per_s")),
                          ">= 0.5x C0", at_least(0.5)))
        rows.append(_goal(Row("S6", "full extract (job time)", ours, "rows/s", "C1", g("C1", "rows_per_s")),
                          ">= 1.0x C1", at_least(1.0)))
        rows.append(Row("S6", "full extract (wall, with start-up)", g("S6", "rows_per_s_wall"), "rows/s", "C1",
                        g("C1", "rows_per_s")))
        changed = f"{g('S6', 'incremental_rows'):,} changed rows into {g('S6', 'rows'):,}"
        rows.append(_goal(Row("S6", f"incremental run, {changed} (wall)", g("S6", "incremental_rows_per_s_wall"),
                              "rows/s", "C1-incremental", g("C1", "incremental_rows_per_s")),
                          ">= 1.0x C1-incremental", at_least(1.0)))
        rows.append(Row("S6", f"incremental run, {changed} (job time)", g("S6", "incremental_rows_per_s"),
                        "rows/s", "C1-incremental", g("C1", "incremental_rows_per_s")))
        rows.append(Row("S6", "incremental run (wall)", g("S6", "incremental_wall_s"), "s"))
        rows.append(_goal(Row("S6", "empty incremental run (wall)", g("S6", "empty_wall_s"), "s"), "< 15 s",
                          at_most(15.0)))
    rows += _extract_floor_rows(ctx)
    rows += _fixed_cost_rows(ctx)
    rows += _step_floor_rows(ctx)
    if "S7" in f:
        for mode, prefix in (("two drivers", ""), ("one driver", "one_driver_")):
            if g("S7", f"{prefix}bronze_restart_s") is None:
                continue  # not run (freshness_one_driver: no two-driver restart)
            for table in ("bronze", "silver"):
                rows.append(_goal(Row("S7", f"{table} restart to first commit, {mode}",
                                      g("S7", f"{prefix}{table}_restart_s"), "s"), "< 20 s", at_most(20.0)))
    if "F7" in f:
        first_form = {"bronze": "bronze's table, the first append",
                      "silver": "bronze's and silver's three tables, the first append and the first MERGE into "
                                "silver's grown table"}
        for table in ("bronze", "silver"):
            ours = g("S7", f"one_driver_{table}_restart_s")
            for key, name, what, against in (
                    (f"{table}_s", "F7", f": a fresh driver, the state of {first_form[table]}", "Spark's floor"),
                    (f"streams_{table}_restart_s", "F7 streams",
                     " as streams: the least queries in one driver, killed and restarted as S7's",
                     "the floor as streams")):
                floor = g("F7", key)
                rows.append(Row("F7", f"Spark's floor under S7's {table} restart{what}", floor, "s"))
                if ours is not None:
                    rows.append(Row("S7", f"{table} restart to first commit, one driver, against {against}", ours, "s",
                                    name, floor))
    rows += _overhead_rows(ctx)
    for key in selected:
        if key in ctx.results.errors:
            rows.append(Row(key, f"FAILED: {ctx.results.errors[key].splitlines()[0][:100]}", None, ""))
    return rows


def b2_silver_rows_per_s(ctx: BenchContext) -> Optional[float]:
    """B2's silver step: bronze rows parsed and MERGEd per second (None when B2 did not run)."""
    seconds = ctx.results.get("B2", "silver_s")
    return ctx.results.get("B2", "events") / seconds if seconds else None


def per_row_baselines(ctx: BenchContext) -> dict[str, tuple[str, Optional[float]]]:
    """S10's part group -> the baseline it is compared with: its name and rows/s (None when not run)."""
    return {"bronze": ("B1", ctx.results.get("B1", "events_per_s")),
            "silver": ("B2 silver step", b2_silver_rows_per_s(ctx))}


def _per_row_rows(ctx: BenchContext) -> list[Row]:
    figures = ctx.results.figures.get("S10")
    if not figures:
        return []
    baselines = per_row_baselines(ctx)
    return [Row("S10", part, part_figures["rows_per_s"], "rows/s", *baselines[part_figures["group"]])
            for part, part_figures in figures["parts"].items()]


def _catchup_floor_rows(ctx: BenchContext) -> list[Row]:
    """F1 and F2 against the baselines, and our catch-up against them (Spark's floor: bench/scenarios/floor.py)."""
    f, g = ctx.results.figures, ctx.results.get
    rows = []
    for floor, ours, baseline, work in (("F1", "S1", "B1", "Kafka -> Delta, one batch job"),
                                        ("F2", "S2", "B2", "F1, then parse, dedup -> Delta")):
        if floor not in f:
            continue
        rate = g(floor, "events_per_s")
        rows.append(Row(floor, f"Spark's floor under {ours}: {work} (wall)", rate, "events/s", baseline,
                        g(baseline, "events_per_s")))
        if ours in f:
            rows.append(Row(ours, "catch-up against Spark's floor", g(ours, "events_per_s"), "events/s", floor, rate))
    return rows


def _extract_floor_rows(ctx: BenchContext) -> list[Row]:
    """F6 against C0, C1 and C1-incremental, and S6 against F6."""
    f, g = ctx.results.figures, ctx.results.get
    if "F6" not in f:
        return []
    full, incremental = g("F6", "rows_per_s"), g("F6", "incremental_rows_per_s_wall")
    rows = [Row("F6", "Spark's floor under S6's full extract: JDBC -> Delta (work)", full, "rows/s", baseline,
                g(baseline, "rows_per_s")) for baseline in ("C0", "C1")]
    rows.append(Row("F6", f"Spark's floor under S6's incremental run: {g('F6', 'incremental_rows'):,} changed rows, "
                          "JDBC -> Delta MERGE (wall)", incremental, "rows/s", "C1-incremental",
                    g("C1", "incremental_rows_per_s")))
    if "S6" in f:
        rows.append(Row("S6", "full extract (job time) against Spark's floor", g("S6", "rows_per_s"), "rows/s", "F6",
                        full))
        rows.append(Row("S6", "incremental run (wall) against Spark's floor", g("S6", "incremental_rows_per_s_wall"),
                        "rows/s", "F6", incremental))
    return rows


def _freshness_rows(ctx: BenchContext) -> list[Row]:
    figures = ctx.results.figures.get("S3")
    if not figures:
        return []
    rows = []
    mode = ", one driver" if figures.get("mode") == "one driver" else ""
    for phase in figures["phases"]:
        for table, limit in (("bronze", 3.0), ("silver", 6.0)):
            for stat in ("p50", "p99"):
                label = f"{table} freshness {stat} at {phase['rate']:,.0f}/s{mode}"
                row = Row("S3", label, phase[table][f"{stat}_s"], "s")
                if stat == "p99":
                    _goal(row, f"<= {limit:g} s", at_most(limit))
                rows.append(row)
    return rows


def _freshness_floor_rows(ctx: BenchContext) -> list[Row]:
    """F3's p99 per rate against S3's goals, and S3's p99 at the same rate against F3's."""
    floor = ctx.results.figures.get("F3")
    if not floor:
        return []
    ours = {phase["rate"]: phase for phase in ctx.results.figures.get("S3", {}).get("phases", [])}
    rows = []
    for phase in floor["phases"]:
        rate = phase["rate"]
        for table, limit in (("bronze", 3.0), ("silver", 6.0)):
            p99 = phase[table]["p99_s"]
            rows.append(_goal(Row("F3", f"Spark's floor under S3: {table} freshness p99 at {rate:,.0f}/s, "
                                        f"{floor['mode']}", p99, "s"), f"<= {limit:g} s", at_most(limit)))
            if rate in ours:
                rows.append(Row("S3", f"{table} freshness p99 at {rate:,.0f}/s against Spark's floor",
                                ours[rate][table]["p99_s"], "s", "F3", p99))
    return rows


def _merge_rows(ctx: BenchContext) -> list[Row]:
    figures = ctx.results.figures.get("S4")
    if not figures:
        return []
    rows = []
    for target in figures["targets"]:
        variants = target["variants"]
        for size, unpruned in variants["no_pruning"].items():
            label = f"MERGE {int(size):,} into {target['rows']:,}"
            for variant, name in (("partition_pruning", "partition pruning"),
                                  ("pruning_deletion_vectors", "pruning + deletion vectors")):
                rows.append(Row("S4", f"{label}, {name}", variants[variant][size]["median_ms"], "ms", "no pruning",
                                unpruned["median_ms"]))
    return rows


def _small_file_rows(ctx: BenchContext) -> list[Row]:
    figures = ctx.results.figures.get("S5")
    if not figures:
        return []
    rows = []
    for key, value in figures.items():
        if key.endswith("_files_per_batch") and value["batches"]:
            label = key[: -len("_files_per_batch")].replace("_", " ").replace("always on", "always-on")
            rows.append(_goal(Row("S5", f"{label}: files/micro-batch max (mean {value['mean']:.1f})", value["max"],
                                  "files"), "<= 4", at_most(4)))
    for layer in ("bronze", "silver"):
        before, after = figures[f"{layer}_before"], figures[f"{layer}_after"]
        rows.append(Row("S5", f"{layer} files after OPTIMIZE", after["files"], "files", "before", before["files"]))
        rows.append(Row("S5", f"{layer} deltalake scan after OPTIMIZE", after["scan_s"], "s", "before",
                        before["scan_s"]))
    return rows


def _fixed_cost_rows(ctx: BenchContext) -> list[Row]:
    figures = ctx.results.figures.get("S8")
    if not figures:
        return []
    rows = []
    for contract, jobs in figures["contracts"].items():
        for job, batch in jobs.items():
            rows.append(_goal(Row("S8", f"{job} micro-batch of {figures['rows_per_batch']} rows, {contract} (median)",
                                  batch["median_s"], "s"), f"<= {batch['goal_s']:g} s", at_most(batch["goal_s"])))
    return rows


# S8's silver phases that are one write each, and the F8 step they are compared with.
S8_WRITES = (("handler: silver_merge/execute_commit", "merge"), ("handler: review/execute_commit", "merge"),
             ("beside the handler: quarantine/execute_commit", "merge"), ("handler: quality_append", "append"))
# transaction_events' reads on either side of silver's MERGE: the scoring (its velocity look-up), review's read back.
S8_TRANSACTION_READS = (("handler: dedup_velocity_shape", "lookup"), ("handler: review", "read_back"))
F8_STEPS = {"lookup": "a look-up of 10 keys over a time range", "merge": "a 10-row insert-only MERGE",
            "read_back": "a read of 10 keys back", "append": "a one-row append"}


def _step_floor_rows(ctx: BenchContext) -> list[Row]:
    """F8's steps and their sum for a transaction batch (against S8's goal), and each of S8's silver steps
    (median) against the one it is."""
    figures = ctx.results.figures.get("F8")
    if not figures:
        return []
    floors = {step: figures[f"{step}_median_s"] for step in F8_STEPS}
    rows = [Row("F8", f"Spark's floor under S8's steps: {text}, warm driver (median)", floors[step], "s")
            for step, text in F8_STEPS.items()]
    contracts = ctx.results.figures.get("S8", {}).get("contracts", {})
    transaction = contracts.get("transaction_events", {}).get("silver")
    goal_s = SMALL_BATCH_GOALS_S["silver"]
    rows.append(_goal(Row("F8", "Spark's floor under S8's transaction_events batch: its steps in turn (look-up, MERGE, "
                                "read back, MERGE, append)", figures["transaction_steps_s"], "s"),
                      f"<= {goal_s:g} s", at_most(goal_s)))
    if transaction:
        rows.append(Row("S8", "transaction_events silver batch (median) against Spark's floor under its steps",
                        transaction["median_s"], "s", "F8 steps", figures["transaction_steps_s"]))
    for contract, jobs in contracts.items():
        phases = jobs["silver"]["phases"]
        for phase, step in S8_WRITES + (S8_TRANSACTION_READS if contract == "transaction_events" else ()):
            if phase in phases:
                rows.append(Row("S8", f"{contract} silver batch: {phase} (median)", phases[phase]["median_s"], "s",
                                f"F8 {step}", floors[step]))
    return rows


def _overhead_rows(ctx: BenchContext) -> list[Row]:
    figures = ctx.results.figures.get("S9")
    if not figures:
        return []
    off, on, every = figures["off"], figures["on"], figures["every"]
    label = f"silver batch of {figures['rows']} records, metrics + lineage on"
    every_label = f"{label}, listener reporting every batch"
    return [
        _goal(Row("S9", f"{label} (median)", on["median_ms"], "ms", "off", off["median_ms"]), "< 1.05x off",
              ratio_below(1.05)),
        _goal(Row("S9", f"{label} (driver CPU per batch)", on["cpu_per_batch_ms"], "ms", "off",
                  off["cpu_per_batch_ms"]), "< 1.05x off", ratio_below(1.05)),
        Row("S9", f"{label} (run wall per batch: start, stop, drain)", on["wall_per_batch_ms"], "ms", "off",
            off["wall_per_batch_ms"]),
        Row("S9", f"{every_label} (median)", every["median_ms"], "ms", "off", off["median_ms"]),
        Row("S9", f"{every_label} (driver CPU per batch)", every["cpu_per_batch_ms"], "ms", "off",
            off["cpu_per_batch_ms"]),
    ]


def _show(value: Optional[float], unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if abs(value) >= 100 or float(value).is_integer():
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:,.1f}"
    else:
        text = f"{value:,.2f}"
    return f"{text} {unit}".strip()


def print_table(ctx: BenchContext, selected: list[str]) -> list[Row]:
    rows = rows_for(ctx, selected)
    header = ("id", "figure", "ours", "baseline", "ratio", "goal", "met")
    table = [header] + [
        (r.id, r.figure, _show(r.ours, r.unit),
         f"{r.baseline} {_show(r.baseline_value, r.unit)}" if r.baseline else "",
         f"{r.ratio:.2f}x" if r.ratio is not None else "", r.goal or "",
         "" if r.met is None else ("yes" if r.met else "NO"))
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print()
    for number, line in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))
    print(flush=True)
    return rows


def write_json(ctx: BenchContext, selected: list[str], rows: list[Row], started: float,
               folder: Optional[Path] = None) -> Path:
    folder = folder or ROOT / "bench" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ctx.run_id}{'-quick' if ctx.quick else ''}.json"
    document = {
        "run_id": ctx.run_id,
        "started_at": dt.datetime.fromtimestamp(started, dt.timezone.utc).isoformat(),
        "duration_s": dt.datetime.now(dt.timezone.utc).timestamp() - started,
        "quick": ctx.quick,
        "selected": selected,
        "steps": ctx.step_seconds,
        "machine": machine(ctx),
        "versions": versions(ctx),
        "config": {"sizes": dataclasses.asdict(ctx.sizes), "event_logs": bool(ctx.event_logs), **config_summary(ctx)},
        "table": [dataclasses.asdict(r) for r in rows],
        "results": ctx.results.figures,
        "errors": ctx.results.errors,
    }
    path.write_text(json.dumps(document, indent=2, default=str))
    return path
