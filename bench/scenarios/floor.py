"""F1, F2, F6, F7, F8: Spark's floor under S1, S2, S6, S7 and S8's writes, on the same data and machine.

Each floor is the least Spark program doing the figure's reads and writes (bench/scenarios/floor_job.py),
in a fresh spark-submit started as our jobs start, timed the same way as the figure (wall time from
launch, or the work alone where S6 counts its job time). It is compared with the figure's baseline
(how far Spark itself is from it) and our figure with it (how far our job is from Spark). The run is
printed phase by phase: launch (spark-submit, the JVM, Python), imports and config, the SparkSession,
the work, and stop and exit.

    F1  Kafka -> Delta, the whole topic as one batch job              B1; S1 against F1
    F2  F1, then its table -> parse, dedup -> Delta                    B2; S2 against F2
    F6  JDBC -> Delta full, then the changed rows -> Delta MERGE       C0, C1, C1-incremental; S6 against F6
    F7  a fresh driver, the state of the tables a restart writes       S7 (one driver) against F7
        first (bronze's, then silver's three) on S7's tables, and the
        JVM's first append (10 rows, a new table) and first MERGE
        (10 rows, into silver's grown user_events)
    F8  a warm driver's cheapest form of each step of a small          S8's MERGE and append phases against F8;
        transaction batch, each alone: a look-up of 10 keys, a 10-row  S8's transaction_events batch against
        insert-only MERGE, a read of its keys back, a one-row append;  the sum of its steps in turn
        their sum in the order the batch must take them

F3, the floor under S3's freshness, runs two streams beside live traffic: bench/scenarios/floor_freshness.py.
F7's streams, the least queries killed and restarted as S7's: bench/scenarios/floor_restart.py.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
from pathlib import Path

from bench.checks import distinct_values
from bench.context import BenchContext
from bench.deltalog import DeltaLog
from bench.harness import BenchError, say
from bench.scenarios.preload import loaded_topic

LAKE = "floor"
JOB = "bench/scenarios/floor_job.py"
# A transaction_events batch's steps, each needing the one before: the velocity look-up (its flags are in
# silver's rows), silver's MERGE, the read of silver's rows back, review's MERGE, the quality row (last).
TRANSACTION_STEPS = ("lookup", "merge", "read_back", "merge", "append")


def run_catchup(ctx: BenchContext, wanted: list[str]) -> None:
    """F1 and F2 over the pre-loaded topic (F2 needs F1's table)."""
    loaded = loaded_topic(ctx)
    bronze_path = ctx.table_path(LAKE, "bronze", "user_events")
    bronze = _floor(ctx, "F1-bronze", "bronze", "--topic", loaded["topic"], "--table", bronze_path)
    rows = DeltaLog(bronze_path).rows()
    if rows != loaded["records"]:
        raise BenchError(f"F1's table holds {rows:,} rows, the topic {loaded['records']:,} records")
    ctx.results.put("F1", events=rows, events_per_s=rows / bronze["wall_s"], **bronze)
    if "F2" not in wanted:
        return
    silver_path = ctx.table_path(LAKE, "silver", "user_events")
    silver = _floor(ctx, "F2-silver", "silver", "--bronze", bronze_path, "--table", silver_path)
    silver_rows, distinct_ids = DeltaLog(silver_path).rows(), distinct_values(silver_path, "event_id")
    if not silver_rows == distinct_ids == loaded["distinct"]:
        raise BenchError(f"F2's table holds {silver_rows:,} rows with {distinct_ids:,} distinct ids; "
                         f"{loaded['distinct']:,} distinct ids were produced")
    total_s = bronze["wall_s"] + silver["wall_s"]
    ctx.results.put("F2", events=rows, bronze_s=bronze["wall_s"], silver_s=silver["wall_s"], wall_s=total_s,
                    events_per_s=rows / total_s, silver_rows=silver_rows, silver_phases=silver["phases"],
                    silver_peak_mb=silver["peak_mb"])


def run_small_steps(ctx: BenchContext, wanted: list[str]) -> None:
    """F8: the median of each step over the measured rounds, and the sum of a transaction batch's steps in
    the order its handler must take them (TRANSACTION_STEPS)."""
    sizes = ctx.sizes
    figures = _floor(ctx, "F8-small-steps", "small-steps", "--table", str(ctx.lake(LAKE) / "small_steps"),
                     "--rounds", str(sizes.floor_step_rounds), "--warmup", str(sizes.floor_step_warmup))
    seconds = figures.pop("seconds")
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    transaction_s = sum(medians[step] for step in TRANSACTION_STEPS)
    say("F8: medians of " + ", ".join(f"{name} {value:.3f}s" for name, value in medians.items())
        + f"; a transaction batch's steps in turn ({' + '.join(TRANSACTION_STEPS)}) {transaction_s:.3f}s")
    ctx.results.put("F8", **{f"{name}_median_s": value for name, value in medians.items()},
                    transaction_steps_s=transaction_s, seconds=seconds, rounds=sizes.floor_step_rounds, **figures)


def restart_states(ctx: BenchContext, lake: str) -> dict:
    """F7 on the always-on jobs' tables once they stopped: bronze's restart floor is the fresh driver,
    bronze's table state and the JVM's first append; silver's (in one driver, after bronze's) adds its
    three tables' states and the JVM's first MERGE, into silver's grown table (a copy: the data files
    linked, the log copied, so S5 finds the jobs' table as they left it)."""
    from lakehouse.ops.quality import TABLE as QUALITY_RESULTS

    grown = grown_copy(ctx.table_path(lake, "silver", "user_events"), ctx.lake(LAKE) / "restart_silver")
    paths = {"bronze": ctx.table_path(lake, "bronze", "user_events")}
    silver = {"silver": str(grown), **{name: ctx.table_path(lake, layer, table) for name, (layer, table) in (
        ("quarantine", ("quarantine", "user_events")), ("quality results", QUALITY_RESULTS))}}
    paths.update(silver)
    day, held = newest_partition(grown, "event_date"), DeltaLog(str(grown)).rows()
    figures = _floor(ctx, "F7-table-states", "table-states", "--tables", ",".join(paths.values()),
                     "--first-writes", str(ctx.lake(LAKE) / "first_writes"), "--merge-into", str(grown),
                     "--merge-date", day)
    inserted = DeltaLog(str(grown)).rows() - held
    if inserted <= 0:
        raise BenchError(f"F7's first MERGE inserted no row into a copy of silver's {held:,} rows")
    by_path, first = figures.pop("table_seconds"), figures.pop("first_write_seconds")
    tables = {name: by_path[path] for name, path in paths.items()}
    start = sum(figures["phases"][phase] for phase in ("launch", "imports", "spark_start"))
    bronze_s = start + tables["bronze"] + first["append"]
    silver_s = bronze_s + sum(tables[name] for name in silver) + first["merge"]
    return {"bronze_s": bronze_s, "silver_s": silver_s, "tables": tables, "first_writes": first,
            "merge_into_rows": held, "merge_inserted": inserted, "merge_date": day, **figures}


def grown_copy(table: str, copy: Path) -> Path:
    """A copy of the local Delta table at `table` that writes leave the original alone: its data files
    hard-linked (Delta never rewrites one), its log copied (Delta replaces `_last_checkpoint` in place)."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(table, copy, copy_function=os.link, ignore=shutil.ignore_patterns("_delta_log"))
    shutil.copytree(Path(table) / "_delta_log", copy / "_delta_log")
    return copy


def newest_partition(table: Path, column: str) -> str:
    """The greatest value of the partition `column` among the table's live files."""
    prefix = f"{column}="
    values = [part[len(prefix):] for path in DeltaLog(str(table)).live_files() for part in path.split("/")
              if part.startswith(prefix)]
    if not values:
        raise BenchError(f"{table} has no live file in a {column} partition")
    return max(values)


def newest_position(conn, schema: str) -> tuple:
    """The (updated_at, order_id) of the newest order: where an incremental read after a full one starts."""
    from psycopg import sql

    query = sql.SQL("SELECT updated_at, order_id FROM {} ORDER BY updated_at DESC, order_id DESC LIMIT 1")
    return conn.execute(query.format(sql.Identifier(schema, "orders"))).fetchone()


def extract_full(ctx: BenchContext, schema: str, rows: int) -> dict:
    """F6's full read of the orders table into a new Delta table; rows/s over the work and the wall time."""
    path = ctx.table_path(LAKE, "silver", "orders")
    figures = _floor(ctx, "F6-full", "extract-full", *_source_args(ctx, schema), "--table", path)
    written = DeltaLog(path).rows()
    if written != rows:
        raise BenchError(f"F6's full read wrote {written:,} rows, the source holds {rows:,}")
    return {"rows": rows, "rows_per_s": rows / figures["work_s"], "rows_per_s_wall": rows / figures["wall_s"],
            "full_wall_s": figures["wall_s"], "full_work_s": figures["work_s"], "full_phases": figures["phases"]}


def extract_incremental(ctx: BenchContext, schema: str, position: tuple, updated: int, safety_delay_s: float,
                        full: dict) -> dict:
    """F6's next run: the rows after `position` MERGEd by key into the full read's table."""
    path = ctx.table_path(LAKE, "silver", "orders")
    after_cursor, after_key = position
    figures = _floor(ctx, "F6-incremental", "extract-incremental", *_source_args(ctx, schema), "--table", path,
                     "--cursor", "updated_at", "--after-cursor", after_cursor.isoformat(), "--after-key",
                     str(after_key), "--safety-delay-s", f"{safety_delay_s:g}")
    log = DeltaLog(path)
    log.refresh()
    merged = log.commits[-1].metrics
    if int(merged.get("numTargetRowsUpdated", -1)) != updated or log.rows() != full["rows"]:
        raise BenchError(f"F6's MERGE updated {merged.get('numTargetRowsUpdated')} rows, expected {updated:,}; "
                         f"its table holds {log.rows():,} rows, expected {full['rows']:,}")
    return {**full, "incremental_rows": updated, "incremental_wall_s": figures["wall_s"],
            "incremental_work_s": figures["work_s"], "incremental_rows_per_s_wall": updated / figures["wall_s"],
            "incremental_phases": figures["phases"]}


def _source_args(ctx: BenchContext, schema: str) -> tuple[str, ...]:
    return ("--schema", schema, "--source", "orders", "--key", "order_id", "--partitions",
            str(ctx.sizes.pg_partitions), "--fetch-size", str(ctx.sizes.pg_fetch_size))


def _floor(ctx: BenchContext, name: str, work: str, *args: str) -> dict:
    """One floor program's run: its wall time, peak memory, the wall time phase by phase, and the
    work's own figures."""
    out = ctx.work / f"{name}.json"
    say(f"{name}: Spark's floor, floor_job.py --work {work}")
    proc = ctx.job(name, JOB, ctx.overrides(LAKE), "--work", work, "--out", str(out), *args).start()
    proc.wait(ctx.sizes.job_timeout_s)
    record = json.loads(out.read_text())
    started_at, ready_at = record.pop("started_at"), record.pop("ready_at")
    phases = {"launch": started_at - proc.wall_started, "imports": ready_at - started_at,
              "spark_start": record.pop("spark_start_s"), "work": record["work_s"]}
    phases["exit"] = proc.elapsed_s - sum(phases.values())
    say(f"{name}: {proc.elapsed_s:.1f}s wall; " + ", ".join(f"{phase} {s:.2f}s" for phase, s in phases.items()))
    return {"wall_s": proc.elapsed_s, "peak_mb": proc.peak_mb(), "phases": phases, **record}
