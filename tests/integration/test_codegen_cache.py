"""Spark's generated classes outlive a micro-batch: the next silver batches of the same shape reuse them.

One small transaction_events batch (its MERGEs, Delta's log replay, the fraud scoring) generates about
200 classes. With Spark's default cache of 100 (`spark.sql.codegen.cache.maxEntries`), every batch
compiled them all again: seconds of Janino per batch, and code the JIT never warmed. conf/base.yaml
keeps 2000. What a batch still compiles is code with its own values inlined. The batch's time is not
(lakehouse.spark.udfs.fixed_instant), and the velocity look-up's bounds are whole hours
(silver_batch.fraud_history).
"""
from __future__ import annotations

import datetime as dt
import json
import uuid

from pyspark.sql import functions as F

from lakehouse.schemas import CONTRACTS
from lakehouse.spark.udfs import fixed_instant
from lakehouse.streaming.silver_batch import fraud_history, handle_silver_batch
from lakehouse.transforms.parsing import parse_records
from tests.integration.streaming_support import transactions_plan
from tests.unit.streaming.conftest import bronze_df

CONTRACT = CONTRACTS["transaction_events"]
REUSED_BATCH_MOST = 2   # 0 on 2026-12-07; 6 with the batch's time a literal, about 190 with Spark's default cache


def compilations(spark) -> int:
    """Classes Janino compiled in this JVM so far (Spark's codegen metrics)."""
    return spark._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME().getCount()


def small_batch(spark, users: range, made_at: dt.datetime):
    """A malformed record and one new transaction per user made at `made_at`, as a fresh micro-batch hands
    them over."""
    now = dt.datetime.now(dt.timezone.utc)
    at = made_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    values = ["not json"] + [json.dumps({
        "transaction_id": str(uuid.uuid4()), "user_id": str(user), "amount": f"{user * 10}.00", "currency": "USD",
        "status": "pending", "transaction_timestamp": at, "created_at": at, "updated_at": at, "schema_version": "1.0",
    }) for user in users]
    return bronze_df(spark, values, ingested_at=now).transform(parse_records(CONTRACT, 1_000_000))


def test_a_silver_batch_like_the_last_ones_compiles_few_classes(spark, tmp_path):
    plan = transactions_plan(spark, tmp_path)
    made_at = dt.datetime.now(dt.timezone.utc)  # one hour for every batch's velocity look-up
    # Two batches first: the second is the first to find the users' history (velocity) and rows to update.
    for batch_id, users in enumerate((range(1, 10), range(3, 12))):
        handle_silver_batch(small_batch(spark, users, made_at), batch_id, plan)
    before = compilations(spark)
    third = handle_silver_batch(small_batch(spark, range(5, 14), made_at), 2, plan)
    compiled = compilations(spark) - before
    assert (third.inserted, third.quarantined) == (9, 1)
    assert compiled <= REUSED_BATCH_MOST, f"the third batch compiled {compiled} classes"


def test_velocity_look_ups_of_batches_in_one_hour_reuse_their_generated_code(spark, tmp_path):
    plan = transactions_plan(spark, tmp_path)
    handle_silver_batch(small_batch(spark, range(1, 10), dt.datetime.now(dt.timezone.utc)), 0, plan)
    versions = spark.read.format("delta").load(plan.silver.path)
    hour = dt.datetime.fromisoformat(versions.agg(  # the batch's hour, as text in the session's zone
        F.date_format(F.date_trunc("hour", F.min("transaction_timestamp")), "yyyy-MM-dd HH:mm:ss")).first()[0])
    spans = [(str(hour + dt.timedelta(minutes=first)), str(hour + dt.timedelta(minutes=first, seconds=30)))
             for first in (15, 40)]   # each span's window (10 minutes back) starts in the same hour
    fraud_history(plan, versions, spans[0]).collect()
    before = compilations(spark)
    rows = fraud_history(plan, versions, spans[1]).collect()
    assert compilations(spark) == before
    assert len(rows) == 9   # the whole hour of the batch's users, the batch's own rows among them


def test_a_stage_stamped_with_a_fixed_instant_is_compiled_once_for_every_instant(spark):
    rows = spark.range(10).localCheckpoint()
    start = dt.datetime.now(dt.timezone.utc)

    def stamped(stamp, seconds: int) -> int:   # the classes compiled to count rows per stamp
        before = compilations(spark)
        rows.groupBy(stamp(start + dt.timedelta(seconds=seconds)).alias("at")).count().collect()
        return compilations(spark) - before

    stamped(lambda at: fixed_instant(spark, at), 0)
    assert [stamped(lambda at: fixed_instant(spark, at), s) for s in (1, 2)] == [0, 0]
    stamped(F.lit, 3)
    assert all(stamped(F.lit, s) > 0 for s in (4, 5))   # a literal's value is in the code
