"""Record keys and the three deduplication steps."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from chispa import assert_df_equality
from pyspark.sql.types import ArrayType, IntegerType, LongType, StringType, StructField, StructType, TimestampType

from lakehouse.schemas import CONTRACTS
from lakehouse.sinks.delta import MergeSpec
from lakehouse.transforms.dedup import (
    dedupe_first_seen,
    dedupe_newest_version,
    dedupe_within_watermark,
    with_record_key,
)

T1, T2 = dt.datetime(2024, 6, 1, 10, 0), dt.datetime(2024, 6, 1, 11, 0)
PARSED = StructType([
    StructField("topic", StringType()),
    StructField("topic_id", StringType()),
    StructField("kafka_partition", IntegerType()),
    StructField("kafka_offset", LongType()),
    StructField("transaction_id", StringType()),
    StructField("updated_at", TimestampType()),
    StructField("reasons", ArrayType(StringType())),
])


def test_record_key_is_the_contract_key_or_the_kafka_position_of_a_rejected_row(spark):
    rows = [
        ("t", "id1", 0, 1, "a", T1, []),
        ("t", "id1", 0, 2, None, None, ["malformed_json"]),  # null row: rejected, no key fields
        ("t", "id1", 1, 2, None, None, ["malformed_json"]),  # edge: same nulls, must not share a key
        ("t", "id2", 1, 2, None, None, ["malformed_json"]),  # edge: same position in a re-created topic
    ]
    keyed = spark.createDataFrame(rows, PARSED).transform(with_record_key(CONTRACTS["transaction_events"]))
    expected = spark.createDataFrame(
        [(1, "a|2024-06-01 10:00:00"), (2, "kafka:t:id1:0:2"), (2, "kafka:t:id1:1:2"), (2, "kafka:t:id2:1:2")],
        "kafka_offset long, record_key string")
    assert_df_equality(keyed.select("kafka_offset", "record_key"), expected, ignore_row_order=True,
                       ignore_nullable=True)


def test_dedupe_within_watermark_forgets_keys_once_the_window_has_passed(spark, tmp_path):
    """A stream of three bronze commits (one micro-batch each) through the bounded dedup state."""
    source = str(tmp_path / "source")
    schema = "record_key string, ingested_at timestamp, kafka_offset long"
    at = dt.datetime(2024, 6, 1, 10, 0)
    commits = [
        [("a", at, 1), ("a", at, 2), ("b", at, 3), (None, at, 4)],             # repeat inside one batch; null row
        [("a", at + dt.timedelta(minutes=30), 5), ("c", at + dt.timedelta(hours=3), 6)],  # repeat in the window
        [("d", at + dt.timedelta(hours=3, minutes=1), 7)],                      # this batch evicts "a"
        [("a", at + dt.timedelta(hours=3, minutes=5), 8)],                      # edge: after eviction, kept
    ]
    for rows in commits:
        spark.createDataFrame(rows, schema).coalesce(1).write.format("delta").mode("append").save(source)
    sink = f"dedup_{tmp_path.name}"
    query = (
        spark.readStream.format("delta").option("maxFilesPerTrigger", 1).load(source)
        .transform(dedupe_within_watermark("1 hour"))
        .writeStream.format("memory").queryName(sink).trigger(availableNow=True).start()
    )
    try:
        query.awaitTermination(120)
    finally:
        query.stop()
    kept = spark.createDataFrame([(o,) for o in (1, 3, 4, 6, 7, 8)], "kafka_offset long")
    assert_df_equality(spark.table(sink).select("kafka_offset"), kept, ignore_row_order=True, ignore_nullable=True)


def test_dedupe_first_seen_keeps_the_earliest_kafka_position(spark):
    schema = "event_id string, kafka_partition int, kafka_offset long"
    rows = [("e1", 1, 5), ("e1", 0, 9), ("e1", 0, 7), ("e2", 2, 1), (None, 0, 3)]
    expected = spark.createDataFrame([("e1", 0, 7), ("e2", 2, 1), (None, 0, 3)], schema)
    deduped = spark.createDataFrame(rows, schema).transform(dedupe_first_seen(["event_id"]))
    assert_df_equality(deduped, expected, ignore_row_order=True)


def test_dedupe_newest_version_keeps_the_newest_version_and_breaks_ties_by_kafka_position(spark):
    schema = "transaction_id string, updated_at timestamp, kafka_partition int, kafka_offset long"
    rows = [
        ("a", T2, 0, 1), ("a", T1, 0, 9),                  # newest wins although it came first
        ("b", T1, 0, 1), ("b", T1, 0, 2),                  # edge: a tie goes to the later offset
        ("c", None, 0, 3), ("c", T1, 0, 4),                # null row: a null version never wins
    ]
    expected = spark.createDataFrame([("a", T2, 0, 1), ("b", T1, 0, 2), ("c", T1, 0, 4)], schema)
    spec = MergeSpec(keys=("transaction_id",), newer_column="updated_at")
    deduped = spark.createDataFrame(rows, schema).transform(dedupe_newest_version(spec))
    assert_df_equality(deduped, expected, ignore_row_order=True)


def test_equal_updated_at_is_decided_by_status_then_content_not_by_kafka_position(spark):
    """The transactions contract's order: a refund beats a completion at the same updated_at, and two
    versions equal in both are told apart by their content, wherever they sit in Kafka."""
    merge = CONTRACTS["transaction_events"].merge
    schema = ("transaction_id string, user_id string, amount decimal(10,2), currency string, status string, "
              "payment_method string, merchant_category string, transaction_timestamp timestamp, "
              "created_at timestamp, updated_at timestamp, schema_version string, kafka_partition int, "
              "kafka_offset long")
    versions = [("a", "refunded", Decimal("5.00")), ("a", "completed", Decimal("5.00")),
                ("b", "completed", Decimal("7.00")), ("b", "completed", Decimal("8.00"))]
    winners = set()
    for offsets in ([1, 2, 3, 4], [2, 1, 4, 3]):
        rows = [(key, "7", amount, "EUR", status, "card", "games", T1, T1, T1, "1.0", 0, offset)
                for (key, status, amount), offset in zip(versions, offsets)]
        deduped = spark.createDataFrame(rows, schema).transform(dedupe_newest_version(merge))
        winners.add(frozenset((r.transaction_id, r.status, r.amount) for r in deduped.collect()))
    assert len(winners) == 1
    (chosen,) = winners
    assert ("a", "refunded", Decimal("5.00")) in chosen
