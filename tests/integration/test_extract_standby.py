"""The `delay` late-commit guard where dev and prod use it: reading a real streaming standby.

A standby of the local Postgres (pg_basebackup, lakehouse.services.standby) replays the primary's
writes; the extract reads the standby while a writer commits on the primary. Within the guard's
assumption (every primary transaction ends within the safety delay) nothing is missed or read twice,
also while replay is paused; a transaction that outlives the delay is lost, as the README says, and
the reconciliation reports it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import time

import pytest

from lakehouse.services.postgres import PostgresServer
from lakehouse.services.standby import PostgresStandby
from lakehouse.sourcegen.writer import ConcurrentWriter
from tests.integration.extract_support import compare, extract_config, run, source_schema, writer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300), pytest.mark.usefixtures("postgres_service")]

DELAY = 2.0  # the safety delay: the writer's transactions last at most about 1.3 s


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def standby(cfg):
    with PostgresStandby(PostgresServer(cfg), free_port()) as replica:
        yield replica


def on_standby(job, replica: PostgresStandby):
    """`job` reading the standby instead of the primary."""
    return dataclasses.replace(job, postgres=dataclasses.replace(job.postgres, host="127.0.0.1", port=replica.port))


def run_replayed(spark, job, replica: PostgresStandby, primary_cfg, **flags):
    """A run once the standby has replayed a commit made on the primary just before (its last
    replayed commit time is then about now, so the bound is about now - DELAY)."""
    with writer(primary_cfg) as conn:
        conn.execute("SELECT txid_current()")
    replica.wait_for_replay()
    return run(spark, job, **flags)


def test_reading_a_standby_under_a_concurrent_writer_misses_and_repeats_nothing(spark, cfg, standby):
    with source_schema(cfg, users=20, orders=100) as schema:
        primary = extract_config(cfg, schema, guard="delay", delay=DELAY)
        replica = on_standby(primary, standby)
        summaries = [run_replayed(spark, replica, standby, cfg)]
        with ConcurrentWriter(cfg.postgres, schema, seed=11, max_hold_s=0.6) as live:
            for _ in range(2):
                time.sleep(1.5)
                summaries.append(run(spark, replica))
            with standby.admin_connection() as conn:  # replay paused while the primary keeps committing
                conn.execute("SELECT pg_wal_replay_pause()")
            paused_at = dt.datetime.now(dt.timezone.utc)
            time.sleep(DELAY + 1)
            paused = run(spark, replica)
            with standby.admin_connection() as conn:
                conn.execute("SELECT pg_wal_replay_resume()")
            time.sleep(1.5)
            resumed = run(spark, replica)
            summaries += [paused, resumed]
        time.sleep(DELAY)
        summaries.append(run_replayed(spark, replica, standby, cfg))

        print(f"standby, concurrent writer: {live.stats}")
        assert live.stats.committed >= 10
        assert "standby replay lag" in paused.held_back_by, paused.line()
        assert paused.upper_bound <= paused_at - dt.timedelta(seconds=DELAY), "the bound stayed at the replayed commit"
        assert resumed.upper_bound > paused_at
        assert sum(s.rows_read > 0 for s in summaries[1:-1]) >= 2, "runs read while the writer was writing"
        positions = [s.new_position for s in summaries]
        assert positions == sorted(positions)
        figures = compare(primary)
        figures.show(f"standby: {len(summaries)} runs under a concurrent writer, replay paused once")
        assert figures.all_zero, summaries[-1].line()


def test_a_primary_transaction_longer_than_the_delay_is_lost_on_a_standby_and_reported_by_reconcile(
        spark, cfg, standby):
    with source_schema(cfg, users=5, orders=20) as schema:
        primary = extract_config(cfg, schema, guard="delay", delay=DELAY)
        replica = on_standby(primary, standby)
        assert run_replayed(spark, replica, standby, cfg).rows_read == 20
        with writer(cfg) as late:
            late.execute("BEGIN")
            late_id, late_cursor = late.execute(
                f'INSERT INTO "{schema}".orders (customer_id, order_date, order_total, status, quantity)'
                " VALUES (1, current_date, 1.00, 'pending', 1) RETURNING order_id, updated_at").fetchone()
            with writer(cfg) as conn:
                conn.execute(f'INSERT INTO "{schema}".orders (customer_id, order_date, order_total, status, quantity)'
                             " SELECT 1, current_date, 2.00, 'completed', 1 FROM generate_series(1, 5)")
            time.sleep(DELAY + 1)  # the open transaction outlives the safety delay
            during = run_replayed(spark, replica, standby, cfg)
            late.execute("COMMIT")
        time.sleep(DELAY)
        after = run_replayed(spark, replica, standby, cfg)

        assert during.rows_read == 5
        assert during.new_position.cursor > late_cursor, "the bound passed the open transaction's row"
        assert after.rows_read == 0, "so its commit is never read"
        figures = compare(primary)
        figures.show(f"standby: a transaction open {DELAY + 1:.0f}s > safety delay {DELAY:.0f}s")
        assert figures.missed == 1
        report = run_replayed(spark, replica, standby, cfg, mode="reconcile")
        assert (report.not_yet_extracted, report.not_yet_extracted_sample) == (1, (late_id,))
