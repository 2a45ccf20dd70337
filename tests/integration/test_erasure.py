"""Erasure of one person end to end on the local stack: Kafka -> bronze/quarantine/silver and the
Postgres extract, erased while a silver stream keeps committing, then re-run and later pipeline runs."""
from __future__ import annotations

import dataclasses
import json
import threading
import uuid

import pytest

from lakehouse.erasure.job import erase, make_request
from lakehouse.erasure.targets import erasure_targets
from lakehouse.kafka.producer import EventProducer
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.silver import start_silver
from tests.integration.extract_support import run as run_extract
from tests.integration.extract_support import source_schema, writer
from tests.integration.streaming_support import bronze_options, silver_options, stream_config, table, wait_for
from tests.integration.test_streaming_transactions import txn

ERASED, KEPT = "2", ("1", "3")


def event(user: str, day: int = 1) -> tuple[bytes, bytes]:
    body = {"event_id": str(uuid.uuid4()), "user_id": user, "event_type": "page_view",
            "event_timestamp": f"2024-06-0{day}T12:00:00Z", "schema_version": "1.0"}
    return user.encode(), json.dumps(body).encode()


def produce(cfg, contract: str, records) -> None:
    with EventProducer(cfg) as producer:
        for key, value in records:
            producer.send(cfg.streaming.topics[contract], key, value)


def run_streams(spark, cfg, contracts: str = "user_events,transaction_events") -> None:
    start_bronze(spark, cfg, bronze_options(contracts)).wait(until_all_done=True)
    start_silver(spark, cfg, silver_options(contracts)).wait(until_all_done=True)


def people(spark, cfg) -> dict[str, dict[str, int]]:
    """Rows per person id in every table the erasure covers, read with the erasure's own column rule."""
    from lakehouse.erasure.delete import person_column

    found = {}
    for target in erasure_targets(cfg):
        rows = table(spark, cfg, *target.name.split(".")).select(person_column(spark, target).alias("p"))
        found[target.name] = {r.p: r["count"] for r in rows.groupBy("p").count().collect() if r.p is not None}
    return found


def feed_during_erasure(spark, cfg, failures: list) -> None:
    """Produces another person's event and runs a bronze round for it while the erasure runs; a
    round that loses the race with the erasure's commits is run again, as the scheduler does."""
    produce(cfg, "user_events", [event("3", day=2)])
    for _ in range(3):
        try:
            start_bronze(spark, cfg, bronze_options("user_events")).wait(until_all_done=True)
            return
        except Exception as exc:  # recorded and shown by the test
            failures.append(f"{type(exc).__name__}: {str(exc)[:200]}")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_one_person_is_erased_from_every_table_while_a_silver_stream_runs(spark, tmp_path, new_topic,
                                                                         postgres_service):
    topics = {"user_events": new_topic(partitions=2, prefix="erase_events"),
              "transaction_events": new_topic(partitions=1, prefix="erase_txn")}
    base = stream_config(tmp_path, topics, "extract.safety_delay_s=0.5")
    with source_schema(base, users=4, orders=16) as schema:
        extract_tables = {name: dataclasses.replace(spec, schema=schema) for name, spec in base.extract.tables.items()}
        cfg = dataclasses.replace(base, extract=dataclasses.replace(base.extract, tables=extract_tables))
        with writer(cfg) as conn:  # every seeded user has an order (the seed picks customers at random)
            conn.execute(f'UPDATE "{schema}".orders SET customer_id = (order_id - 1) % 4 + 1')
        produce(cfg, "user_events", [*(event(u) for u in ("1", "2", "3", "2")),
                                     (b"2", b'{"user_id": "2", "event_type": "nope"}'),  # quarantined, theirs
                                     (b"x", b"not json")])                               # nobody's
        produce(cfg, "transaction_events", [txn("t1", 1, 0), txn("t2", 2, 1),
                                            txn("big2", 2, 2, amount="20000.00"), txn("t3", 3, 3),
                                            (b"2", b'{"user_id": "2", "transaction_id": "t4"}')])
        run_streams(spark, cfg)
        for name in ("users", "orders"):
            run_extract(spark, cfg, name)
        before = people(spark, cfg)
        assert all(before[t].get(ERASED) for t in before), before  # the person is in every table

        stream = start_silver(spark, cfg, silver_options("user_events", trigger="processing-time"))
        query = stream.queries[0]
        failures = []
        feeder = threading.Thread(target=feed_during_erasure, args=(spark, cfg, failures), daemon=True)
        try:
            wait_for(lambda: query.lastProgress is not None, 60, "the silver stream's first batch",
                     check=lambda: _alive(query))
            feeder.start()
            batches_before = query.lastProgress["batchId"]
            first = erase(spark, cfg, make_request([ERASED], "dpo@example.com", "TICKET-1"))
            wait_for(lambda: query.lastProgress["batchId"] > batches_before, 60,
                     "a silver batch committed after the erasure started", check=lambda: _alive(query))
            feeder.join(120)
            _alive(query)
        finally:
            stream.stop()
        print("bronze rounds that failed during the erasure:", failures)

        after = people(spark, cfg)
        assert {t: rows.get(ERASED) for t, rows in after.items() if rows.get(ERASED)} == {}
        for name, rows in before.items():
            for kept in KEPT:  # the others' rows are untouched (new ones of person 3 may have come)
                assert after[name].get(kept, 0) >= rows.get(kept, 0), (name, kept)
        assert after["silver.user_events"]["3"] > before["silver.user_events"]["3"]  # the stream went on
        assert {t.table: t.rows_removed for t in first.tables} == {
            "bronze.user_events": 3, "bronze.transaction_events": 3, "quarantine.user_events": 1,
            "quarantine.transaction_events": 1, "silver.user_events": 2, "silver.transactions": 2,
            "silver.fraud_review": 1, "silver.users": 1, "silver.orders": 4}
        assert {t.table: t.rows_unattributed for t in first.tables}["quarantine.user_events"] == 1
        assert any("still holds" in line and "users" in line for line in first.lines)
        assert any("dbt build --full-refresh" in line and "source:users.users+" in line for line in first.lines)

        # The application erases the source; a crash had left bronze's guard off; the job runs again.
        with writer(cfg) as conn:
            conn.execute(f'DELETE FROM "{schema}".orders WHERE customer_id = {ERASED}')
            conn.execute(f'DELETE FROM "{schema}".users WHERE user_id = {ERASED}')
        bronze_path = cfg.lake.table_path("bronze", "user_events")
        spark.sql(f"ALTER TABLE delta.`{bronze_path}` SET TBLPROPERTIES ('delta.appendOnly' = 'false')")
        second = erase(spark, cfg, make_request([ERASED], "dpo@example.com", "TICKET-1", vacuum_now=True))
        assert second.repaired == ["bronze.user_events"]
        vacuumed = [line for line in second.lines if "VACUUM with the table's retention deleted 0 files" in line]
        assert len(vacuumed) == len(second.tables)  # nothing is a week old yet: the retention is kept
        assert {t.rows_removed for t in second.tables} == {0}
        assert not any("WARNING" in line for line in second.lines)
        properties = spark.sql(f"DESCRIBE DETAIL delta.`{bronze_path}`").first().properties
        assert properties["delta.appendOnly"] == "true"

        log = table(spark, cfg, "ops", "erasure_log").collect()
        assert len(log) == 2 * len(first.tables)
        assert {(r.request_id, r.requested_by) for r in log} == {("TICKET-1", "dpo@example.com")}
        assert sum(r.rows_removed for r in log) == sum(t.rows_removed for t in first.tables)
        assert all(r.unrecoverable_after > r.erased_at for r in log if r.rows_removed)
        assert all(r.unrecoverable_after is None for r in log if not r.rows_removed)
        assert ERASED not in {value for r in log for value in r.asDict().values() if isinstance(value, str)}

        # Later pipeline runs bring nobody back.
        produce(cfg, "user_events", [event("1", day=3)])
        run_streams(spark, cfg)
        with writer(cfg) as conn:
            conn.execute(f'UPDATE "{schema}".users SET updated_at = now()')
            conn.execute(f'UPDATE "{schema}".orders SET updated_at = now()')
        for name in ("users", "orders"):
            run_extract(spark, cfg, name)
        final = people(spark, cfg)
        assert {t: rows.get(ERASED) for t, rows in final.items() if rows.get(ERASED)} == {}
        assert final["silver.user_events"]["1"] == before["silver.user_events"]["1"] + 1
        assert final["silver.users"] == {"1": 1, "3": 1, "4": 1}


def _alive(query) -> None:
    if not query.isActive:
        raise AssertionError(f"the silver stream died: {query.exception()}")
