"""Maintenance committing to the tables the writers commit to: OPTIMIZE ZORDER BY and VACUUM in a loop
while bronze, silver and the Postgres extract write the same tables, in the same partitions.

The maintenance job runs in a thread of its own Spark session (as a separate driver would, it commits
through the table's log). Silver's MERGEs read the partition OPTIMIZE rewrites, and so does the
extract's, so their commits meet OPTIMIZE's: the writers must retry, and lose nothing.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import threading
import time

import pytest

from lakehouse.config.model import MaintainedTableConfig, MaintenanceConfig
from lakehouse.kafka.producer import EventProducer
from lakehouse.maintenance import job as maintenance
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.silver import start_silver
from tests.integration.extract_support import compare, extract_config, run, source_schema, writer
from tests.integration.streaming_support import (
    batch_ids,
    bronze_options,
    silver_options,
    stream_config,
    table,
    wait_for,
)
from tests.integration.test_streaming_transactions import txn

pytestmark = pytest.mark.usefixtures("postgres_service")

# Rounds go on (up to MAX_ROUNDS) until a writer has met a conflict; OPTIMIZE may lose every conflict of
# several rounds (then it retries, not the writers).
MIN_ROUNDS, MAX_ROUNDS = 2, 12
PER_ROUND = 30  # new transactions per round; the previous round's complete in the next one
STALL_S = 120  # silver catching up may take minutes on a busy machine, but not a stall of this long


class MaintenanceLoop(threading.Thread):
    """The maintenance job on each of `cfg`'s maintained tables in turn, again and again until stopped."""

    def __init__(self, spark, cfg):
        super().__init__(daemon=True)
        self.session, self.cfg = spark.newSession(), cfg
        self.stopping = threading.Event()
        self.runs = self.failed_runs = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            for name in self.cfg.maintenance.tables:
                if self.stopping.is_set():
                    return
                args = argparse.Namespace(tables=name, skip_optimize=False, skip_vacuum=False, retention_hours=None,
                                          force_retention=False, parallelism=None)
                try:
                    maintenance.run(self.session, self.cfg, args)
                except maintenance.MaintenanceError:
                    self.failed_runs += 1  # OPTIMIZE lost a conflict: its job reports it, the writers go on
                self.runs += 1

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=120)


def maintained(cfg, extract_target: str):
    """`cfg` maintaining silver, the extract's target and bronze. OPTIMIZE ZORDER BY rewrites a partition
    even when it holds one file, so each of its runs commits while the writers write."""
    tables = {
        "silver.transactions": MaintainedTableConfig("streaming", zorder_by=["user_id"]),
        f"silver.{extract_target}": MaintainedTableConfig("extract", zorder_by=["customer_id"]),
        "bronze.transaction_events": MaintainedTableConfig("streaming"),
    }
    return dataclasses.replace(cfg, maintenance=MaintenanceConfig(vacuum_retention_hours=None, tables=tables))


def produce(cfg, records) -> None:
    with EventProducer(cfg) as producer:
        for key, value in records:
            producer.send(cfg.streaming.topics["transaction_events"], key, value)


def round_of_transactions(number: int) -> tuple[list, dict[str, str]]:
    """This round's new transactions (pending) and the previous round's, completed; all on one day, so
    every silver MERGE reads the one partition OPTIMIZE rewrites. Returns (records, id -> newest status)."""
    new = [(f"r{number}-{i}", number * PER_ROUND + i) for i in range(PER_ROUND)]
    done = [(f"r{number - 1}-{i}", (number - 1) * PER_ROUND + i) for i in range(PER_ROUND)] if number else []
    records = [txn(tid, n % 40 + 1, n) for tid, n in new]
    records += [txn(tid, n % 40 + 1, n, "completed", updated_minute=5) for tid, n in done]
    return records, {**{tid: "pending" for tid, _ in new}, **{tid: "completed" for tid, _ in done}}


def change_orders(cfg, schema: str, number: int) -> None:
    """Inserts 30 orders and moves 10 existing ones forward."""
    with writer(cfg) as conn:
        conn.execute(f'INSERT INTO "{schema}".orders (customer_id, order_date, order_total, status, quantity)'
                     " SELECT 1 + i % 5, current_date, 10.00 + i, 'pending', 1 FROM generate_series(1, 30) AS i")
        conn.execute(f'UPDATE "{schema}".orders SET quantity = quantity + %s, status = %s'
                     f' WHERE order_id IN (SELECT order_id FROM "{schema}".orders ORDER BY order_id LIMIT 10)',
                     (number + 1, "completed"))


def alive(*runs):
    def check():
        for streaming in runs:
            for query in streaming.queries:
                assert query.isActive, f"{query.name} died: {query.exception()}"
    return check


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_optimize_and_vacuum_beside_silver_and_the_extract_lose_nothing_and_kill_no_query(
        spark, tmp_path, new_topic, caplog):
    caplog.set_level(logging.INFO)
    topic = new_topic(partitions=2, prefix="conflicts")
    base = stream_config(tmp_path, {"transaction_events": topic})
    with source_schema(base, users=5, orders=50) as schema:
        job = extract_config(base, schema, delay=0.3)
        cfg = maintained(job, job.extract.tables["orders"].target_name)
        run(spark, job)  # the extract target exists before maintenance starts
        expected: dict[str, str] = {}
        bronze = start_bronze(spark, cfg, bronze_options("transaction_events", trigger="processing-time",
                                                         max_offsets=45))
        silver = start_silver(spark, cfg, silver_options("transaction_events", trigger="processing-time",
                                                         max_files=2))
        loop = MaintenanceLoop(spark, cfg)
        loop.start()
        extract_runs = []

        def writer_retries() -> list[str]:
            return [r.getMessage() for r in caplog.records
                    if r.name == "lakehouse.sinks.retry" and r.getMessage().startswith("MERGE into")]

        try:
            while len(extract_runs) < MIN_ROUNDS or (not writer_retries() and len(extract_runs) < MAX_ROUNDS):
                number = len(extract_runs)
                records, newest = round_of_transactions(number)
                produce(cfg, records)
                expected.update(newest)
                change_orders(cfg, schema, number)
                time.sleep(0.4)  # past the extract's safety delay
                extract_runs.append(run(spark, job))
                alive(bronze, silver)()

            off: list[str] = []  # how silver differs from `expected`, as last seen

            def silver_done() -> bool:
                rows = table(spark, cfg, "silver", "transactions").select("transaction_id", "status").collect()
                held = {r.transaction_id: r.status for r in rows}
                off[:] = [f"{len(rows)} rows for {len(expected)} transactions"] if len(rows) != len(expected) else []
                off.extend(f"{tid}: {held.get(tid)} (not {status})"
                           for tid, status in expected.items() if held.get(tid) != status)
                return not off

            try:
                wait_for(silver_done, STALL_S, "silver to hold every transaction's newest version",
                         alive(bronze, silver), progress=lambda: batch_ids(bronze, silver))
            except AssertionError as late:
                raise AssertionError(f"{late}; as last seen: {'; '.join(off[:6])}") from None
        finally:
            loop.stop()
            silver.stop()
            bronze.stop()

        print(f"maintenance: {loop.runs} table runs, {loop.failed_runs} failed; extract runs: {len(extract_runs)}")
        print(*(r.getMessage() for r in caplog.records if r.name == "lakehouse.sinks.retry"), sep="\n")
        assert loop.runs >= 3, "maintenance ran while the writers wrote"
        rows = table(spark, cfg, "silver", "transactions")
        assert rows.count() == len(expected) == len(extract_runs) * PER_ROUND, "one row per transaction"
        figures = compare(job)
        figures.show("extract target beside maintenance")
        assert figures.all_zero
        assert writer_retries(), "the writers met maintenance's commits and retried"
