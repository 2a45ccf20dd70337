"""A new silver checkpoint over a compacted bronze: every bronze row reaches silver or quarantine.

Compaction (OPTIMIZE) rewrites old bronze rows into a new file, and a new checkpoint reads its
initial snapshot in file modification order: yesterday's rows arrive after today's. The streaming
dedup state that `streaming.dedup_window` used to add dropped them as late (neither silver nor
quarantine); silver now has no watermark, so no row can be late.
"""
from __future__ import annotations

import datetime as dt

import pytest

from lakehouse.schemas import CONTRACTS
from lakehouse.sinks.delta import ensure_table
from lakehouse.streaming.silver import start_silver
from lakehouse.streaming.tables import bronze_table
from tests.integration.streaming_support import silver_options, stream_config, table
from tests.unit.streaming.conftest import bronze_df, payload

CONTRACT = CONTRACTS["user_events"]


def event(number: int) -> bytes:
    return payload(event_id=f"00000000-0000-0000-0000-{number:012d}", user_id="7", event_type="page_view",
                   event_timestamp="2024-06-01T10:00:00Z", schema_version="1.0")


def append_bronze_commit(spark, path: str, offset: int, value: bytes, ingested_at: dt.datetime) -> None:
    """One bronze commit of one record (one file), as the bronze job appends them."""
    rows = bronze_df(spark, [None] * offset + [value], topic="events", ingested_at=ingested_at)
    rows.where(f"kafka_offset = {offset}").coalesce(1).write.format("delta").mode("append").save(path)


@pytest.mark.timeout(300)
def test_a_new_silver_checkpoint_over_compacted_bronze_loses_no_row(spark, tmp_path):
    cfg = stream_config(tmp_path, {"user_events": "events"})
    bronze = bronze_table(cfg, CONTRACT)
    ensure_table(spark, bronze)
    yesterday, today = dt.datetime(2024, 6, 1, 10), dt.datetime(2024, 6, 2, 10)
    records = [(event(0), yesterday), (b"{broken", yesterday), (event(2), today), (event(3), today)]
    for offset, (value, ingested_at) in enumerate(records):
        append_bronze_commit(spark, bronze.path, offset, value, ingested_at)
    # Table maintenance compacts yesterday's partition: its rows move to a file newer than today's.
    spark.sql(f"OPTIMIZE delta.`{bronze.path}` WHERE ingest_date = '2024-06-01'")

    # A new checkpoint, one bronze file per batch: today's files first, then the compacted one.
    start_silver(spark, cfg, silver_options("user_events", max_files=1)).wait(until_all_done=True)

    silver = [r.kafka_offset for r in table(spark, cfg, "silver", "user_events").collect()]
    quarantined = [r.kafka_offset for r in table(spark, cfg, "quarantine", "user_events").collect()]
    assert (sorted(silver), quarantined) == ([0, 2, 3], [1])
    assert sorted(silver + quarantined) == [r.kafka_offset for r in table(spark, cfg, "bronze", "user_events")
                                            .orderBy("kafka_offset").collect()]
