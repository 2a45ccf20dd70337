"""The Postgres -> Delta extract under the cases where cursor-based extraction usually loses or
duplicates rows: ties at the boundary, late commits, crashes, two runs racing, concurrent writes,
text keys under a real (ICU) collation, hard deletes.

Real Postgres, real Delta. Each test prints its missed / duplicated / differing figures, which must
be 0; they compare exact values read with psycopg and deltalake, not through Spark.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from lakehouse.config.model import ExtractTableConfig
from lakehouse.extract.bounds import upper_bound
from lakehouse.extract.identifiers import resolve_table
from lakehouse.extract.state import app_id, read_state, table_version
from lakehouse.sourcegen.schema import history_load
from lakehouse.sourcegen.writer import ConcurrentWriter
from lakehouse.sources.postgres import connect
from tests.conftest import PROJECT_ROOT, unique_name
from tests.integration.extract_support import (
    compare,
    extract_config,
    icu_database,
    job_argv,
    job_env,
    run,
    source_schema,
    start_job,
    target_path,
    with_table,
    writer,
)

pytestmark = pytest.mark.usefixtures("postgres_service")

DELAY = 0.5  # safety delay of these tests: rows are safe to read DELAY seconds after their commit


def insert_orders(conn, schema: str, count: int, updated_at=None, customer: int = 1) -> None:
    """`count` orders in one statement; `updated_at` None: the default, now()."""
    conn.execute(
        f'INSERT INTO "{schema}".orders (customer_id, order_date, order_total, status, quantity, updated_at)'
        " SELECT %s, current_date, 10.00 + i, 'completed', 1, coalesce(%s, now()) FROM generate_series(1, %s) AS i",
        (customer, updated_at, count),
    )


def committed_state(spark, cfg):
    with connect(cfg.postgres, "tests") as conn:
        table = resolve_table(conn, cfg.extract.tables["orders"])
    return read_state(spark, target_path(cfg), app_id(table), table)


def test_a_thousand_rows_sharing_one_cursor_value_are_split_across_runs_without_loss_or_repeat(spark, cfg):
    with source_schema(cfg, users=5, orders=0) as schema:
        tie = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
        with writer(cfg) as conn, history_load(conn, schema, "orders"):
            insert_orders(conn, schema, 5, tie - dt.timedelta(seconds=1))
            insert_orders(conn, schema, 1000, tie)
            insert_orders(conn, schema, 5, tie + dt.timedelta(seconds=1))
        job = extract_config(cfg, schema, delay=DELAY, max_rows_per_run=400)

        summaries = []
        for _ in range(10):
            summaries.append(run(spark, job))
            if not summaries[-1].more_pending:
                break
        reads = [s.rows_read for s in summaries]
        assert reads == [400, 400, 210]
        mid_tie = [s.new_position for s in summaries[:2]]
        assert all(p.cursor == tie for p in mid_tie), "the first two runs end inside the tie"
        assert [s.new_position for s in summaries] == sorted({s.new_position for s in summaries})
        with writer(cfg) as conn:  # what a plain `cursor > last cursor` would have skipped after run 1
            skipped = conn.execute(f'SELECT count(*) FROM "{schema}".orders WHERE updated_at = %s AND order_id > %s',
                                   (tie, mid_tie[0].key[0])).fetchone()[0]
        assert skipped > 0

        figures = compare(job)
        duplicated_reads = sum(reads) - 1010
        figures.show(f"ties: 1000 tied rows over {len(reads)} runs {reads} (cursor-only '>' would skip {skipped})")
        print(f"ties: rows read more than once = {duplicated_reads}")
        assert figures.all_zero
        assert duplicated_reads == 0
        assert run(spark, job).rows_read == 0


def test_a_transaction_committing_an_older_timestamp_after_a_run_is_picked_up_by_the_next(spark, cfg):
    with source_schema(cfg, users=5, orders=20) as schema:
        job = extract_config(cfg, schema, delay=DELAY)
        first = run(spark, job)
        with writer(cfg) as conn:
            insert_orders(conn, schema, 5)
        time.sleep(DELAY + 0.3)

        with writer(cfg) as late:
            late.execute("BEGIN")
            time.sleep(0.3)  # its rows carry now() = this transaction's start, older than what follows
            late_id, late_cursor = late.execute(
                f'INSERT INTO "{schema}".orders (customer_id, order_date, order_total, status, quantity)'
                " VALUES (1, current_date, 99.99, 'pending', 1) RETURNING order_id, updated_at").fetchone()
            with writer(cfg) as conn:
                insert_orders(conn, schema, 10)  # committed, with cursors after the open transaction's
            time.sleep(DELAY + 0.3)
            with connect(job.postgres, "tests") as conn:
                time_only = upper_bound(conn, "delay", DELAY).value
            assert time_only > late_cursor, "a bound by time alone would move past the open transaction's row"

            during = run(spark, job)
            assert during.rows_read == 5, during.line()  # another session's open transaction would show here
            assert during.upper_bound <= late_cursor
            assert during.new_position.cursor < late_cursor
            assert f"pid {late.info.backend_pid} " in during.held_back_by
            late.execute("COMMIT")
        time.sleep(DELAY + 0.3)
        after = run(spark, job)

        assert after.rows_read == 11, after.line()
        assert after.new_position.cursor > late_cursor
        figures = compare(job)
        duplicated_reads = first.rows_read + during.rows_read + after.rows_read - 36
        figures.show(f"late commit: order {late_id} committed after a run moved on")
        print(f"late commit: rows read more than once = {duplicated_reads}")
        assert figures.all_zero
        assert duplicated_reads == 0


CRASHING_RUN = """
import os, sys, time
import lakehouse.extract.modes as modes

real_merge = modes.merge_into

def merge_then_hang(*args, **kwargs):
    if os.environ["CRASH_POINT"] == "before-write":
        print("CRASH-POINT reached: before the Delta write", flush=True)
        time.sleep(600)
    outcome = real_merge(*args, **kwargs)
    print(f"CRASH-POINT reached: after the Delta commit {outcome.table_version}", flush=True)
    time.sleep(600)

modes.merge_into = merge_then_hang
from lakehouse_jobs.batch.postgres_extract import main
sys.exit(main(sys.argv[1:]))
"""


def run_job_and_kill(job_cfg, crash_point: str, timeout: float = 240) -> str:
    """Runs the real job in its own process group, kills the group (SIGKILL) at `crash_point`;
    returns everything the process printed."""
    process = subprocess.Popen(
        [sys.executable, "-c", CRASHING_RUN, *job_argv(job_cfg)], cwd=PROJECT_ROOT, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**job_env(), "CRASH_POINT": crash_point},
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    output, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert process.poll() is None, "the job ended before its crash point:\n" + "".join(output)
                continue
            output.append(line)
            if line.startswith("CRASH-POINT reached"):
                break
        else:
            pytest.fail("the job did not reach its crash point in time:\n" + "".join(output))
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the driver and its JVM, like a lost EMR node
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    return "".join(output)


@pytest.mark.slow
def test_a_run_killed_after_its_delta_commit_is_neither_lost_nor_repeated(spark, cfg):
    with source_schema(cfg, users=5, orders=100) as schema:
        job = extract_config(cfg, schema, delay=DELAY)
        time.sleep(DELAY)
        output = run_job_and_kill(job, "after-write")

        assert "rows_read=" not in output, "the killed run never got to its summary"
        assert cfg.postgres.password.resolve() not in output
        killed = committed_state(spark, job)
        assert killed.txn_version == 0
        assert killed.position is not None
        assert compare(job).all_zero  # what the killed run committed: all 100 rows, and its position

        with writer(cfg) as conn:
            insert_orders(conn, schema, 20)
            conn.execute(f'UPDATE "{schema}".orders SET status = \'refunded\' WHERE order_id <= 5')
        time.sleep(DELAY + 0.3)
        rerun = run(spark, job)

        assert rerun.old_position == killed.position
        assert rerun.rows_read == 25, "exactly the rows changed after the killed run's commit"
        figures = compare(job)
        figures.show("crash after the Delta commit, then rerun")
        print(f"crash after commit: rows read more than once = {rerun.rows_read - 25}")
        assert figures.all_zero


@pytest.mark.slow
def test_a_run_killed_before_its_delta_write_changes_nothing(spark, cfg):
    with source_schema(cfg, users=5, orders=100) as schema:
        job = extract_config(cfg, schema, delay=DELAY)
        time.sleep(DELAY)
        run(spark, job)
        before = committed_state(spark, job)
        version_before = table_version(spark, target_path(job))
        with writer(cfg) as conn:
            insert_orders(conn, schema, 10)
        time.sleep(DELAY + 0.3)

        output = run_job_and_kill(job, "before-write")

        assert "CRASH-POINT reached: before the Delta write" in output
        assert cfg.postgres.password.resolve() not in output
        assert table_version(spark, target_path(job)) == version_before
        assert committed_state(spark, job) == before
        rerun = run(spark, job)
        assert rerun.old_position == before.position
        assert rerun.rows_read == 10
        figures = compare(job)
        figures.show("crash before the Delta write, then rerun")
        assert figures.all_zero


EXTRACT_SESSION = "lakehouse-postgres-extract:orders"  # the application_name of a run's psycopg session


def runs_waiting_for(schema: str, cfg) -> int:
    """Extract sessions blocked on a lock while querying `schema` (a fresh pg_stat_activity sample)."""
    with connect(cfg.postgres, "tests") as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'"
            " AND strpos(query, %s) > 0", (EXTRACT_SESSION, f'"{schema}"')).fetchone()[0]


def await_runs_blocked(schema: str, cfg, processes: list, timeout: float = 240) -> None:
    """Returns once every process waits on the locked source table; fails if one ends first."""
    deadline = time.monotonic() + timeout
    while runs_waiting_for(schema, cfg) < len(processes):
        assert all(p.poll() is None for p in processes), "a run ended before it reached the locked table"
        assert time.monotonic() < deadline, f"the runs did not reach the locked table in {timeout:.0f}s"
        time.sleep(0.2)


@pytest.mark.slow
def test_two_real_runs_racing_from_one_committed_state_commit_once(spark, cfg, tmp_path):
    """Two processes of the job read the same committed state, then race to commit.

    The test holds an exclusive lock on the source table until both runs wait on it: a run reads
    the state before it queries the table, so both start from the same one; releasing the lock
    lets both read the same window and merge at the same moment.
    """
    base = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
    with source_schema(cfg, users=5, orders=0) as schema:
        with writer(cfg) as conn, history_load(conn, schema, "orders"):
            insert_orders(conn, schema, 100, base)
        job = extract_config(cfg, schema, delay=DELAY)
        initial = run(spark, job)
        initial_version = table_version(spark, target_path(job))
        with writer(cfg) as conn, history_load(conn, schema, "orders"):
            insert_orders(conn, schema, 500, base + dt.timedelta(minutes=1))

        outputs = [tmp_path / "run-a.log", tmp_path / "run-b.log"]
        processes = []
        try:
            with writer(cfg) as lock, lock.transaction():
                lock.execute(f'LOCK TABLE "{schema}".orders IN ACCESS EXCLUSIVE MODE')
                processes = [start_job(job, output) for output in outputs]
                await_runs_blocked(schema, cfg, processes)
                print(f"race: both runs read the state and wait on the source at {dt.datetime.now():%H:%M:%S.%f}")
            codes = [p.wait(timeout=240) for p in processes]
        finally:
            for process in processes:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=60)
        logs = [output.read_text() for output in outputs]
        assert cfg.postgres.password.resolve() not in "".join(logs)
        assert sorted(codes) == [0, 1], "\n\n".join(logs)
        winner, loser = (logs[0], logs[1]) if codes[0] == 0 else (logs[1], logs[0])
        for line in (winner + loser).splitlines():
            if any(word in line for word in ("postgres-extract orders", "Error", "Exception")):
                print(f"race: {line}")

        assert "rows_read=500 rows_merged=500 (inserted=500 " in winner
        assert f"position {initial.new_position.describe()} -> " in winner, "the winner started from the state"
        assert "rows_read=" not in loser, "the loser never got to its summary"
        assert "ConcurrentRunError" in loser, loser
        assert f"committed transaction lakehouse-postgres-extract:{schema}.orders/1 first" in loser
        state = committed_state(spark, job)
        assert table_version(spark, target_path(job)) == state.table_version == initial_version + 1, "one commit"
        assert state.txn_version == 1
        with writer(cfg) as conn:
            last_row = conn.execute(f'SELECT updated_at, order_id FROM "{schema}".orders'
                                    " ORDER BY updated_at DESC, order_id DESC LIMIT 1").fetchone()
        assert (state.position.cursor, *state.position.key) == last_row, "the state is the last row committed"
        figures = compare(job)
        figures.show("two real runs racing from one state")
        assert figures.all_zero
        assert run(spark, job).rows_read == 0, "the committed position covers every row committed"


# Text keys whose order under ICU's en-US differs from C's byte order (case, accents, punctuation,
# spaces); the last in en-US order is not the last in byte order.
TEXT_KEYS = ["a", "B", "b", "A", "é", "e", "E", "f", "a-b", "ab", "a b", "_x", "Z", "ß"]
LATER_KEYS = ["Ä", "Émile", "日本"]
LABELS_DDL = """
CREATE SCHEMA {schema};
CREATE TABLE {table} (
    label       text PRIMARY KEY,
    updated_at  timestamptz NOT NULL,
    amount      numeric(38, 18) NOT NULL,
    happened_at timestamptz NOT NULL,
    note        text
);
CREATE INDEX ON {table} (updated_at, label)
"""
# Values a type mapping bug would change: all 38 digits of numeric(38, 18), microseconds (one given
# at another offset), non-ASCII text; the cursor has microseconds too.
AMOUNTS = ["12345678901234567890.123456789012345678", "-0.000000000000000001", "0.100000000000000000"]
MOMENTS = ["2024-05-01 12:00:00.000001+00", "1999-12-31 23:59:59.999999+00", "2024-02-29 14:30:00.123456+02:00"]
NOTES = ["Grüße aus Köln", "日本語のテキスト", None]


def insert_labels(conn, table, keys: list[str], cursor: str) -> None:
    for i, key in enumerate(keys):
        conn.execute(f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s)",
                     (key, cursor, AMOUNTS[i % 3], MOMENTS[i % 3], NOTES[i % 3]))


def run_until_done(spark, job, name: str) -> list:
    """Incremental runs until one leaves nothing pending; their summaries."""
    summaries = [run(spark, job, name)]
    while summaries[-1].more_pending:
        assert len(summaries) < 20, "the runs do not get through the table"
        summaries.append(run(spark, job, name))
    return summaries


def test_text_keys_in_an_icu_database_are_paged_across_runs_without_loss_or_repeat(spark, cfg):
    with icu_database(cfg, "en-US") as icu:
        schema = unique_name("src")
        table = f'"{schema}".labels'
        with writer(icu) as conn:
            conn.execute(LABELS_DDL.format(schema=f'"{schema}"', table=table))
            insert_labels(conn, table, TEXT_KEYS, "2024-05-01 12:00:00.000001+00")  # one tie: key order alone
            en_us = [row[0] for row in conn.execute(f"SELECT label FROM {table} ORDER BY updated_at, label")]
        assert en_us != sorted(TEXT_KEYS), "the database sorts text by en-US, not by code point"
        assert en_us[-1] != max(TEXT_KEYS), "a read in byte order would stop short of the last keys"
        spec = ExtractTableConfig(schema=schema, table="labels", primary_key=["label"], cursor_column="updated_at",
                                  target_layer="silver", target_name=f"labels_{schema}", max_rows_per_run=5)
        job = with_table(extract_config(icu, schema, delay=DELAY), "labels", spec)

        first = run_until_done(spark, job, "labels")

        figures = compare(job, "labels")
        figures.show(f"text keys in en-US order, {len(first)} runs of at most 5 rows")
        assert figures.all_zero, figures
        assert [s.rows_read for s in first] == [5, 5, 4], "each row read once"
        assert [s.new_position.key[0] for s in first] == [en_us[4], en_us[9], en_us[13]], "pages end in en-US order"
        with writer(icu) as conn:
            insert_labels(conn, table, LATER_KEYS, "2024-05-02 08:00:00.5+00")
            conn.execute(f"UPDATE {table} SET updated_at = '2024-05-02 08:00:00.5+00', note = 'moved'"
                         " WHERE label IN ('A', 'b', 'é')")
        second = run_until_done(spark, job, "labels")

        assert [s.rows_read for s in second] == [5, 1], "the 6 changed rows, each read once"
        figures = compare(job, "labels")
        figures.show(f"then 6 rows changed, {len(second)} more runs")
        assert figures.all_zero, figures
        assert run(spark, job, "labels").rows_read == 0


def test_a_random_concurrent_writer_during_five_runs_leaves_delta_equal_to_source(spark, cfg):
    with source_schema(cfg, users=30, orders=200) as schema:
        job = extract_config(cfg, schema, delay=DELAY, num_partitions=2)  # partitioned reads, bounds per run
        summaries = [run(spark, job)]
        with ConcurrentWriter(job.postgres, schema, seed=1, max_hold_s=0.3) as live:  # rolls back its 3rd
            for _ in range(5):
                time.sleep(1.5)  # let the writer commit (and begin) transactions between runs
                summaries.append(run(spark, job))
        stats = live.stats
        time.sleep(DELAY + 0.3)
        summaries.append(run(spark, job))

        print(f"concurrent writer: {stats}")
        assert stats.committed >= 20
        assert stats.inserts
        assert stats.updates
        assert stats.rolled_back
        during = summaries[1:6]
        assert sum(s.rows_read > 0 for s in during) >= 3, "runs read while the writer was writing"
        assert any(s.held_back_by for s in during), "open transactions held the bound back at least once"
        positions = [s.new_position for s in summaries]
        assert positions == sorted(positions)
        figures = compare(job)
        figures.show(f"concurrent writer during {len(during)} runs")
        assert figures.all_zero, summaries[-1].line()


def test_full_refresh_makes_the_target_equal_to_the_source(spark, cfg):
    from delta.tables import DeltaTable

    with source_schema(cfg, users=5, orders=60) as schema:
        job = extract_config(cfg, schema, delay=DELAY)
        time.sleep(DELAY)
        run(spark, job)
        with writer(cfg) as conn:
            conn.execute(f'DELETE FROM "{schema}".orders WHERE order_id IN (3, 4, 5)')
            insert_orders(conn, schema, 7)
        DeltaTable.forPath(spark, target_path(job)).update("order_id = 10", {"status": "'corrupted'"})
        assert not compare(job).all_zero

        refresh = run(spark, job, mode="full-refresh")

        assert refresh.rows_read == 64
        assert refresh.deleted == 3
        assert refresh.new_position is not None
        assert refresh.new_position.cursor < refresh.upper_bound
        figures = compare(job)
        figures.show("full refresh")
        assert figures.all_zero
        assert committed_state(spark, job).position == refresh.new_position


def test_a_backfill_range_is_re_read_and_leaves_the_live_position_where_it_was(spark, cfg):
    from delta.tables import DeltaTable

    with source_schema(cfg, users=5, orders=0) as schema:
        day = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
        with writer(cfg) as conn, history_load(conn, schema, "orders"):
            for offset in range(4):  # 10 orders on each of four days
                insert_orders(conn, schema, 10, day + dt.timedelta(days=offset, hours=1))
        job = extract_config(cfg, schema, delay=DELAY)
        live = run(spark, job)
        lost_in_range, lost_outside = "order_id BETWEEN 11 AND 15", "order_id BETWEEN 31 AND 33"
        DeltaTable.forPath(spark, target_path(job)).delete(f"{lost_in_range} OR {lost_outside}")
        before = committed_state(spark, job)

        backfill = run(spark, job, mode="backfill", since="2024-03-02", until="2024-03-03T00:00:00Z")

        assert backfill.rows_read == 10
        assert backfill.inserted == 5
        assert backfill.updated == 0
        assert committed_state(spark, job) == before, "the live position and its transaction are untouched"
        assert backfill.old_position == backfill.new_position == live.new_position
        target = spark.read.format("delta").load(target_path(job))
        assert target.where(lost_in_range).count() == 5
        assert target.where(lost_outside).count() == 0
        with writer(cfg) as conn:
            insert_orders(conn, schema, 4)
        time.sleep(DELAY + 0.3)
        assert run(spark, job).rows_read == 4, "the next incremental run continues from the live position"


def test_reconciliation_reports_hard_deletes_and_changes_nothing(spark, cfg):
    with source_schema(cfg, users=5, orders=40) as schema:
        job = extract_config(cfg, schema, delay=DELAY)
        time.sleep(DELAY)
        run(spark, job)
        with writer(cfg) as conn:
            conn.execute(f'DELETE FROM "{schema}".orders WHERE order_id IN (7, 21, 40)')
            insert_orders(conn, schema, 2)
        version = table_version(spark, target_path(job))

        report = run(spark, job, mode="reconcile")

        assert report.hard_deletes == 3
        assert report.hard_delete_sample == (7, 21, 40)
        assert report.not_yet_extracted == 0, "the 2 new rows are ahead of the position: the next run reads them"
        assert table_version(spark, target_path(job)) == version, "reconciliation only reports"
        assert "hard_deletes=3 sample=[7, 21, 40]" in report.line()


def test_an_empty_incremental_run_starts_no_spark_job_and_reports_its_figures(spark, cfg, caplog):
    with source_schema(cfg, users=5, orders=30) as schema:
        job = extract_config(cfg, schema, delay=DELAY)
        time.sleep(DELAY)
        first = run(spark, job)
        with caplog.at_level("INFO", logger="lakehouse.extract.run"):
            empty = run(spark, job)

        assert (empty.rows_read, empty.rows_merged, empty.spark_jobs, empty.delta_version) == (0, 0, 0, None)
        assert empty.old_position == empty.new_position == first.new_position
        assert empty.elapsed_s < 3, f"an empty run took {empty.elapsed_s:.2f}s"
        logged = caplog.messages[-1]
        for figure in ("rows_read=0", "rows_merged=0", f"position {first.new_position.describe()} -> ", "elapsed="):
            assert figure in logged
        print(f"empty run: {empty.elapsed_s:.3f}s, {empty.spark_jobs} Spark jobs")


def test_an_insert_with_a_past_updated_at_gets_the_database_time_and_is_read_by_the_next_run(spark, cfg):
    with source_schema(cfg, users=5, orders=20) as schema:
        job = extract_config(cfg, schema, delay=DELAY)
        time.sleep(DELAY)
        first = run(spark, job)
        with writer(cfg) as conn:  # an application whose clock is an hour behind the database's
            insert_orders(conn, schema, 2, first.new_position.cursor - dt.timedelta(hours=1))
        time.sleep(DELAY + 0.3)

        after = run(spark, job)

        assert after.rows_read == 2, after.line()
        assert compare(job).all_zero


def test_rows_inserted_behind_the_position_without_the_trigger_are_reported_and_fail_the_reconcile_job(spark, cfg):
    from lakehouse.extract.run import ExtractError
    from lakehouse.extract.run import run as run_job

    with source_schema(cfg, users=5, orders=20) as schema:
        job = extract_config(cfg, schema, delay=DELAY)
        time.sleep(DELAY)
        first = run(spark, job)
        with writer(cfg) as conn:
            with history_load(conn, schema, "orders"):  # as a writer the trigger cannot correct
                insert_orders(conn, schema, 1, first.new_position.cursor - dt.timedelta(hours=1))
                hidden = conn.execute(f'SELECT max(order_id) FROM "{schema}".orders').fetchone()[0]
            insert_orders(conn, schema, 3)  # ordinary new rows: ahead of the position, read next
        time.sleep(DELAY + 0.3)

        report = run(spark, job, mode="reconcile")

        assert report.not_yet_extracted == 1, report.line()
        assert report.not_yet_extracted_sample == (hidden,)
        assert f"not_yet_extracted=1 sample=[{hidden}]" in report.line()
        assert run(spark, job).rows_read == 3, "incremental runs never see the hidden row"
        assert run(spark, job, mode="reconcile").not_yet_extracted == 1
        job_args = argparse.Namespace(tables="orders", mode="reconcile", since=None, until=None)
        with pytest.raises(ExtractError, match="orders"):
            run_job(spark, job, job_args)


def test_a_column_added_in_the_source_reaches_the_target_null_in_older_rows_until_a_full_refresh(spark, cfg):
    with source_schema(cfg, users=5, orders=20) as schema:
        job = extract_config(cfg, schema, delay=DELAY)
        time.sleep(DELAY)
        run(spark, job)
        with writer(cfg) as conn:
            conn.execute(f"""ALTER TABLE "{schema}".orders ADD COLUMN channel text NOT NULL DEFAULT 'web'""")
            conn.execute(f"""UPDATE "{schema}".orders SET channel = 'app' WHERE order_id IN (1, 2)""")
            insert_orders(conn, schema, 3)
        time.sleep(DELAY + 0.3)

        incremental = run(spark, job)

        assert incremental.rows_read == 5, incremental.line()
        assert incremental.columns_added == ("channel",)
        target = {row.order_id: row.channel for row in spark.read.format("delta").load(target_path(job)).collect()}
        assert {target[1], target[2]} == {"app"}
        assert sorted(channel for key, channel in target.items() if key > 20) == ["web"] * 3
        assert [target[key] for key in range(3, 21)] == [None] * 18, "older rows are null until a full refresh"
        assert compare(job).differing == 18

        refresh = run(spark, job, mode="full-refresh")

        assert refresh.rows_read == 23
        assert compare(job).all_zero


@pytest.mark.parametrize("mode", ["incremental", "full-refresh"])
def test_a_column_dropped_from_the_source_fails_the_run_naming_it_and_writes_nothing(spark, cfg, mode):
    from lakehouse.extract.columns import SchemaChangeError

    with source_schema(cfg, users=5, orders=20) as schema:
        job = extract_config(cfg, schema, delay=DELAY)
        time.sleep(DELAY)
        run(spark, job)
        version = table_version(spark, target_path(job))
        with writer(cfg) as conn:
            conn.execute(f'ALTER TABLE "{schema}".orders DROP COLUMN quantity')
            conn.execute(f'UPDATE "{schema}".orders SET status = %s WHERE order_id = 1', ("refunded",))
        time.sleep(DELAY + 0.3)

        with pytest.raises(SchemaChangeError, match=r"\['quantity'\]"):
            run(spark, job, mode=mode)

        assert table_version(spark, target_path(job)) == version
