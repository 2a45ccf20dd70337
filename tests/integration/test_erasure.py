"""Erasure of one person end to end on the local stack: Kafka -> bronze/quarantine/silver and the
Postgres extract, erased while always-on bronze and silver streams keep committing new records,
then re-run and later pipeline runs."""
from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from collections import Counter

import pytest

from lakehouse.erasure.job import erase, make_request
from lakehouse.erasure.targets import erasure_targets
from lakehouse.kafka.producer import EventProducer
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.options import Trigger
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


def owner(value: bytes):
    """The person a produced record names, None when it names nobody."""
    try:
        return json.loads(value).get("user_id")
    except ValueError:
        return None


def feed(cfg, sent: list, seconds: float) -> None:
    """Produces the kept people's events, valid and refused ones, every 20 ms for `seconds`."""
    deadline = time.monotonic() + seconds
    with EventProducer(cfg) as producer:
        number = 0
        while time.monotonic() < deadline:
            number += 1
            key, value = event(KEPT[number % 2], day=2)
            if number % 5 == 0:  # refused: no event_id
                value = json.dumps({"user_id": key.decode(), "event_type": "nope", "n": number}).encode()
            producer.send(cfg.streaming.topics["user_events"], key, value)
            sent.append((key, value))
            time.sleep(0.02)


class Waiting:
    """A run's `wait` on its own thread, as a job's main thread runs it; `end` stops the run."""

    def __init__(self, run):
        self.run, self.error = run, None
        self.thread = threading.Thread(target=self._wait, daemon=True)
        self.thread.start()

    def _wait(self) -> None:
        try:
            self.run.wait(until_all_done=False)
        except Exception as error:  # shown by the test
            self.error = error

    def alive(self) -> None:
        for query in self.run.queries:
            assert query.isActive, f"{query.name} died: {query.exception()}"

    def end(self) -> None:
        self.run.stop()
        self.thread.join(60)


def fast(options):
    return dataclasses.replace(options, trigger=Trigger("processing-time", "100 milliseconds"))


def holdings(spark, cfg) -> tuple[Counter, Counter, Counter]:
    """user_events' bronze and quarantine values and silver event ids, each as often as it is there."""
    def values(layer):
        return Counter(bytes(r.value) for r in table(spark, cfg, layer, "user_events").select("value").collect())
    silver = Counter(r.event_id for r in table(spark, cfg, "silver", "user_events").select("event_id").collect())
    return values("bronze"), values("quarantine"), silver


def expected(sent: list) -> tuple[Counter, Counter, Counter]:
    """What `holdings` should be: every record sent except the erased person's, once."""
    kept = [value for _, value in sent if owner(value) != ERASED]
    ids = [_event_id(value) for value in kept]
    return (Counter(kept), Counter(v for v, i in zip(kept, ids) if i is None),
            Counter(i for i in ids if i is not None))


def _event_id(value: bytes):
    try:
        return json.loads(value).get("event_id")
    except ValueError:
        return None


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_one_person_is_erased_from_every_table_while_the_streams_run(spark, tmp_path, new_topic,
                                                                         postgres_service):
    topics = {"user_events": new_topic(partitions=2, prefix="erase_events"),
              "transaction_events": new_topic(partitions=1, prefix="erase_txn")}
    base = stream_config(tmp_path, topics, "extract.safety_delay_s=0.5")
    with source_schema(base, users=4, orders=16) as schema:
        extract_tables = {name: dataclasses.replace(spec, schema=schema) for name, spec in base.extract.tables.items()}
        cfg = dataclasses.replace(base, extract=dataclasses.replace(base.extract, tables=extract_tables))
        with writer(cfg) as conn:  # every seeded user has an order (the seed picks customers at random)
            conn.execute(f'UPDATE "{schema}".orders SET customer_id = (order_id - 1) % 4 + 1')
        sent = [*(event(u) for u in ("1", "2", "3", "2")),
                (b"2", b'{"user_id": "2", "event_type": "nope"}'),  # quarantined, theirs
                (b"x", b"not json")]                               # nobody's
        produce(cfg, "user_events", sent)
        produce(cfg, "transaction_events", [txn("t1", 1, 0), txn("t2", 2, 1),
                                            txn("big2", 2, 2, amount="20000.00"), txn("t3", 3, 3),
                                            (b"2", b'{"user_id": "2", "transaction_id": "t4"}')])
        run_streams(spark, cfg)
        for name in ("users", "orders"):
            run_extract(spark, cfg, name)
        before = people(spark, cfg)
        assert all(before[t].get(ERASED) for t in before), before  # the person is in every table

        # The always-on streams run on while events keep coming: a bronze append in flight when the
        # erasure lifts or sets back bronze's guard conflicts with it. Events stop a few seconds into
        # the erasure: here every row is in today's partition, where the DELETE meets every append
        # (older partitions beside a busy stream: test_erasure_busy_table.py).
        runs = [Waiting(start_bronze(spark, cfg, fast(bronze_options("user_events", trigger="processing-time")))),
                Waiting(start_silver(spark, cfg, fast(silver_options("user_events", trigger="processing-time"))))]
        feeder = threading.Thread(target=feed, args=(cfg, sent, 4.0), daemon=True)
        try:
            def alive():
                for run in runs:
                    run.alive()
            wait_for(lambda: all(q.lastProgress for w in runs for q in w.run.queries), 60,
                     "both streams' first batch", check=alive)
            feeder.start()
            time.sleep(1)
            first = erase(spark, cfg, make_request([ERASED], "dpo@example.com", "TICKET-1"))
            feeder.join(60)
            late = [event("1", day=3), event("3", day=3)]
            produce(cfg, "user_events", late)
            sent += late
            wait_for(lambda: holdings(spark, cfg) == expected(sent), 120,
                     "every kept record once in bronze, quarantine and silver", check=alive)
            alive()
        finally:
            for run in runs:
                run.end()
        print(f"records produced: {len(sent)}; restarts: {[run.run.restarts for run in runs]}; "
              f"waits' errors: {[run.error for run in runs]}")
        assert [run.error for run in runs] == [None, None]

        after = people(spark, cfg)
        assert {t: rows.get(ERASED) for t, rows in after.items() if rows.get(ERASED)} == {}
        for name, rows in before.items():
            for kept in KEPT:  # the others' rows are untouched (new ones of person 3 may have come)
                assert after[name].get(kept, 0) >= rows.get(kept, 0), (name, kept)
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
        assert final["silver.user_events"]["1"] == after["silver.user_events"]["1"] + 1
        assert final["silver.users"] == {"1": 1, "3": 1, "4": 1}


