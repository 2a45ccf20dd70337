"""An erasure's DELETE beside a writer that never pauses: bronze's always-on stream appends to today's
ingest_date partition every trigger, and a DELETE reading the whole table loses every retry to those
appends (Delta refuses a commit whose read set another commit added files to). The person's older
rows are in older partitions: deleted one partition at a time, only today's DELETE meets the stream.
"""
from __future__ import annotations

import datetime as dt
import json
import threading

from lakehouse.erasure.delete import erase_rows, is_append_only
from lakehouse.erasure.targets import ErasureTarget
from lakehouse.schemas.lake import BRONZE
from lakehouse.sinks.delta import TableSpec, ensure_table
from lakehouse.sinks.retry import commit_conflicts
from lakehouse.streaming.tables import BRONZE_PROPERTIES
from tests.conftest import unique_name

ERASED = "2"
DAYS = [dt.date(2024, 6, day) for day in (1, 2, 3)]


def bronze_rows(spark, day: dt.date, users: list[str], first_offset: int):
    values = [(json.dumps({"user_id": user, "n": first_offset + i}).encode(), first_offset + i)
              for i, user in enumerate(users)]
    at = dt.datetime.combine(day, dt.time(12), dt.timezone.utc)
    rows = [{"topic": "user_events", "kafka_partition": 0, "kafka_offset": offset, "key": None, "value": value,
             "kafka_timestamp": at, "kafka_timestamp_type": 0, "ingested_at": at, "ingest_date": day,
             "topic_id": "t"} for value, offset in values]
    return spark.createDataFrame(rows, BRONZE)


class Appender(threading.Thread):
    """Blind appends of kept people's rows to one partition, back to back, as a busy stream commits; an
    append refused by the erasure's guard toggles is made again, as the stream's restart would."""

    def __init__(self, spark, path: str, day: dt.date):
        super().__init__(daemon=True)
        self.spark, self.path, self.day = spark, path, day
        self.stop, self.commits, self.refused, self.error = threading.Event(), 0, 0, None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                rows = bronze_rows(self.spark, self.day, ["1", "3"], 10_000 + 2 * self.commits)
                try:
                    rows.write.format("delta").mode("append").save(self.path)
                    self.commits += 1
                except commit_conflicts():
                    self.refused += 1
        except Exception as error:  # shown by the test
            self.error = error


def test_a_person_is_erased_from_older_partitions_while_a_writer_appends_to_today(spark, tmp_path):
    path = str(tmp_path / unique_name("bronze"))
    ensure_table(spark, TableSpec(path, BRONZE, ("ingest_date",), BRONZE_PROPERTIES))
    for number, day in enumerate(DAYS[:2]):
        bronze_rows(spark, day, ["1", ERASED, "3", ERASED], 100 * number).write.format("delta") \
            .mode("append").save(path)
    target = ErasureTarget("bronze.user_events", path, "user_id", raw=True, append_only=True)
    appender = Appender(spark, path, DAYS[2])
    appender.start()
    try:
        while appender.commits < 2 and appender.error is None:
            threading.Event().wait(0.1)
        erased = erase_rows(spark, target, [ERASED])
        during = appender.commits
    finally:
        appender.stop.set()
        appender.join(60)

    assert appender.error is None, appender.error
    assert erased.rows_removed == 4
    assert during > 2, "the writer committed while the erasure ran"
    people = [json.loads(bytes(r.value))["user_id"] for r in spark.read.format("delta").load(path).collect()]
    assert ERASED not in people
    assert people.count("1") == people.count("3") >= 2 + 2
    assert is_append_only(spark, path)
