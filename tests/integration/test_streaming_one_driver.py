"""kafka_to_silver: bronze's and silver's queries in one driver, on the two jobs' checkpoints.

Available-now runs bronze to its end, then silver, so one run takes a record from Kafka to silver. The
queries are the two jobs' (names, checkpoints, so query ids): a lake switches from the two jobs to this
one, and back, without duplicating or re-reading anything.
"""
from __future__ import annotations

import datetime as dt
import random
import threading
import time

import pytest
from pyspark.errors import AnalysisException
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQueryListener

from jobs.streaming.kafka_to_silver import add_arguments
from lakehouse.generators import records
from lakehouse.kafka.producer import EventProducer
from lakehouse.runtime.entrypoint import common_parser
from lakehouse.schemas import USER_EVENTS
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.lock import CheckpointLock, CheckpointLockedError
from lakehouse.streaming.pipeline import run_pipeline
from lakehouse.streaming.silver import start_silver
from lakehouse.streaming.tables import bronze_checkpoint, silver_checkpoint
from tests.integration.streaming_support import bronze_options, silver_options, stream_config, table, wait_for


class StartedQueries(StreamingQueryListener):
    """(query name, query id) of every query started while it listens."""

    def __init__(self):
        self.started: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def onQueryStarted(self, event) -> None:
        with self._lock:
            self.started.add((event.name, str(event.id)))

    def onQueryProgress(self, event) -> None:
        pass

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass

    def collect(self, spark, count: int) -> set[tuple[str, str]]:
        """The queries started so far, once `count` have been seen (events arrive asynchronously)."""
        deadline = time.monotonic() + 10
        while len(self.started) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._lock:
            found, self.started = self.started, set()
        return found


def new_events(rng: random.Random, count: int) -> list[dict]:
    at = dt.datetime.now(dt.timezone.utc)
    return [records.user_event(rng, rng.randint(1, 50), at, records.new_uuid(rng)) for _ in range(count)]


def send(cfg, topic: str, events: list[dict]) -> list[str]:
    """The events and one malformed record; the events' ids."""
    with EventProducer(cfg) as producer:
        for event in events:
            producer.send(topic, event["user_id"].encode(), records.encode(event))
        producer.send(topic, b"1", b"{not json")
    return [event["event_id"] for event in events]


def run_one_driver(spark, cfg, *argv: str) -> None:
    run_pipeline(spark, cfg, common_parser("kafka_to_silver", add_arguments).parse_args(
        ["--topics", "user_events", "--trigger", "available-now", *argv]))


def assert_once(spark, cfg, sent: int, ids: list[str]) -> None:
    """Every Kafka offset once in bronze, every event id once in silver, the malformed records in quarantine."""
    bronze = table(spark, cfg, "bronze", "user_events")
    assert bronze.count() == sent
    assert bronze.select("kafka_partition", "kafka_offset").distinct().count() == sent
    silver = table(spark, cfg, "silver", "user_events").groupBy("event_id").agg(F.count("*").alias("rows"))
    assert sorted((r.event_id, r.rows) for r in silver.collect()) == sorted((i, 1) for i in set(ids))


def test_one_available_now_run_takes_records_from_kafka_through_bronze_into_silver(spark, tmp_path, new_topic):
    topic = new_topic(partitions=2, prefix="one_driver")
    cfg = stream_config(tmp_path, {"user_events": topic})
    events = new_events(random.Random(1), 30)
    ids = send(cfg, topic, events + events[:5])  # 5 sent twice

    run_one_driver(spark, cfg, "--max-offsets-per-trigger", "10")

    assert_once(spark, cfg, 30 + 5 + 1, ids)
    assert table(spark, cfg, "quarantine", "user_events").count() == 1
    assert not spark.streams.active


def test_switching_from_the_two_jobs_to_one_driver_continues_their_checkpoints(spark, tmp_path, new_topic):
    topic = new_topic(partitions=2, prefix="one_driver")
    cfg = stream_config(tmp_path, {"user_events": topic})
    rng = random.Random(2)
    started = StartedQueries()
    spark.streams.addListener(started)
    try:
        first = new_events(rng, 20)
        ids = send(cfg, topic, first)
        start_bronze(spark, cfg, bronze_options("user_events")).wait(until_all_done=True)
        start_silver(spark, cfg, silver_options("user_events")).wait(until_all_done=True)
        two_jobs = started.collect(spark, 2)
        ids += send(cfg, topic, new_events(rng, 20) + first[:4])  # 4 sent again: silver holds them already

        run_one_driver(spark, cfg)
        one_driver = started.collect(spark, 2)
    finally:
        spark.streams.removeListener(started)

    assert len(two_jobs) == 2
    assert one_driver == two_jobs  # same query names and ids: the same checkpoints
    assert_once(spark, cfg, (20 + 1) + (24 + 1), ids)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["bronze_to_silver", "kafka_to_bronze"]
    for job in ("bronze_to_silver", "kafka_to_bronze"):
        assert sorted(p.name for p in (tmp_path / "checkpoints" / job).iterdir()) == ["user_events",
                                                                                      "user_events.lock"]


def test_always_on_silver_takes_what_bronze_writes_until_a_query_is_stopped(spark, tmp_path, new_topic):
    topic = new_topic(partitions=1, prefix="one_driver")
    cfg = stream_config(tmp_path, {"user_events": topic})
    rng = random.Random(3)
    failures = []

    def run() -> None:
        try:
            run_pipeline(spark, cfg, common_parser("kafka_to_silver", add_arguments).parse_args(
                ["--topics", "user_events", "--trigger", "processing-time", "--processing-time", "1 second"]))
        except Exception as error:  # checked by the test's thread
            failures.append(error)

    driver = threading.Thread(target=run, daemon=True)
    driver.start()
    try:
        sent: list[str] = []
        for _ in range(2):  # the second round arrives while both queries run
            sent.extend(send(cfg, topic, new_events(rng, 10)))
            wait_for(lambda: silver_ids(spark, cfg) == sorted(sent), 90, "silver to hold every event",
                     check=lambda: None if driver.is_alive() else pytest.fail(f"the run ended: {failures}"))
        assert sorted(q.name for q in spark.streams.active) == ["bronze.user_events <- " + topic,
                                                                "silver.user_events <- bronze.user_events"]
    finally:
        for query in spark.streams.active:
            if query.name.startswith("bronze.user_events"):
                query.stop()  # the run then stops the other one
        driver.join(60)
    assert not failures
    assert not driver.is_alive()
    assert not spark.streams.active


def test_a_failed_silver_start_up_starts_no_query_and_leaves_no_checkpoint_locked(spark, tmp_path, new_topic):
    """Bronze's start-up took its checkpoint's lock before silver's failed: the run releases it."""
    cfg = stream_config(tmp_path, {"user_events": new_topic(partitions=1, prefix="one_driver")})
    other_run = CheckpointLock(silver_checkpoint(cfg, USER_EVENTS)).acquire()
    try:
        with pytest.raises(CheckpointLockedError, match="in use by pid"):
            run_pipeline(spark, cfg, common_parser("kafka_to_silver", add_arguments).parse_args(
                ["--topics", "user_events", "--trigger", "processing-time"]))
    finally:
        other_run.release()
    assert not spark.streams.active
    CheckpointLock(bronze_checkpoint(cfg, USER_EVENTS)).acquire().release()  # raises if still held


def silver_ids(spark, cfg) -> list[str]:
    silver = cfg.lake.table_path("silver", "user_events")
    try:
        return sorted(r.event_id for r in spark.read.format("delta").load(silver).select("event_id").collect())
    except AnalysisException:  # the run has not created it yet
        return []
