"""The silver foreachBatch handler: one micro-batch of parsed bronze rows -> quarantine, silver, review.

Exactly once: each write of a batch carries Delta's transaction identifier (app id, batch id) and
Delta skips a version it already committed for that app id, table by table. The app id is
derived from the query id in the checkpoint's metadata, so a batch re-run after a crash is
skipped wherever it had committed, while a new checkpoint (deleted or moved; batch ids restart
at 0) writes under a new app id instead of being skipped for ever, and so does a checkpoint restored
or rewound behind the tables (lakehouse.streaming.rewind). Beneath that, every write is a
keyed MERGE (insert once, or newest updated_at wins), so even a replay under another app id
changes no row. `good + quarantined == input` holds per batch: a row is either accepted (and
merged) or has reasons (and is quarantined).
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Optional

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse.config.model import FraudConfig
from lakehouse.schemas import Contract
from lakehouse.sinks.delta import TableSpec, Txn, merge_into
from lakehouse.streaming.checkpoint import CheckpointError, query_id
from lakehouse.streaming.rewind import rekeyed_app_id
from lakehouse.streaming.tables import QUARANTINE_MERGE, REVIEW_MERGE
from lakehouse.transforms.dedup import dedupe_for_merge
from lakehouse.transforms.fraud import KNOWN_COLUMNS, to_review_rows, with_fraud_flags
from lakehouse.transforms.parsing import filter_accepted, is_rejected
from lakehouse.transforms.quarantine import to_quarantine_rows
from lakehouse.transforms.transactions import enrich_amount_usd

log = logging.getLogger("lakehouse.streaming")


@dataclass(frozen=True)
class SilverPlan:
    """Everything the handler of one contract needs; bound with functools.partial."""

    contract: Contract
    checkpoint: str
    silver: TableSpec
    quarantine: TableSpec
    review: Optional[TableSpec] = None     # fraud_review contracts: flagged versions
    fx_rates_path: Optional[str] = None    # needs_fx_rates contracts: reference.fx_rates
    fraud: Optional[FraudConfig] = None    # fraud_review contracts: the rules


@dataclass(frozen=True)
class BatchReport:
    batch_id: int
    rows_in: int
    quarantined: int
    inserted: int
    updated: int
    flagged: int
    skipped_writes: int  # writes Delta skipped as already committed by this query
    seconds: float


def handle_silver_batch(batch_df: DataFrame, batch_id: int, plan: SilverPlan) -> BatchReport:
    """The foreachBatch function (bind `plan` with functools.partial)."""
    started = time.monotonic()
    txn = Txn(silver_app_id(batch_df.sparkSession, plan.checkpoint), batch_id)
    report = write_silver_batch(batch_df, batch_id, plan, txn, started)
    replay = f", {report.skipped_writes} write(s) already committed: skipped" if report.skipped_writes else ""
    log.info(
        "silver.%s batch %d: %d rows in, %d quarantined, %d inserted, %d updated, %d flagged in %.1fs%s",
        plan.contract.silver_table, batch_id, report.rows_in, report.quarantined, report.inserted,
        report.updated, report.flagged, report.seconds, replay,
    )
    return report


def silver_app_id(spark, checkpoint: str) -> str:
    """Delta transaction app id of the query owning `checkpoint`; changes when the checkpoint does
    (and when it was rewound: rekeyed_app_id)."""
    rekeyed = rekeyed_app_id(spark, checkpoint)
    if rekeyed is not None:
        return rekeyed
    owner = query_id(spark, checkpoint)
    if owner is None:
        raise CheckpointError(f"no query metadata in checkpoint {checkpoint}: is the query running on it?")
    return f"lakehouse-silver-{owner}"


def write_silver_batch(
    batch_df: DataFrame, batch_id: int, plan: SilverPlan, txn: Optional[Txn], started: Optional[float] = None
) -> BatchReport:
    """Writes one batch to quarantine, silver and review (each write skipped when empty).

    `txn=None` writes without transaction identifiers: replays then rely on the MERGE keys alone.
    """
    started = time.monotonic() if started is None else started
    spark = batch_df.sparkSession
    now = F.lit(dt.datetime.now(dt.timezone.utc))
    if plan.fx_rates_path is not None:
        batch_df = batch_df.transform(enrich_amount_usd(spark.read.format("delta").load(plan.fx_rates_path)))
    # Computed once and cut from the stream's plan: with persist() alone, the stream's progress showed
    # the dedup operator running again for each action of the batch (the MERGEs among them). Blocks
    # lost with an executor fail the batch, which the query re-runs; the writes make that harmless.
    # Every MERGE source below is derived from it deterministically, so Delta need not copy it again.
    batch = batch_df.localCheckpoint(eager=True)
    held = [batch]
    quarantine = silver = review = None
    flagged = 0
    try:
        totals = batch.agg(F.count(F.lit(1)), F.count(F.when(is_rejected(), 1))).first()
        rows_in, rejected = int(totals[0]), int(totals[1])
        if rejected:
            quarantine = merge_into(batch.transform(to_quarantine_rows(now)), plan.quarantine, QUARANTINE_MERGE, txn,
                                    source_is_materialized=True)
        if rows_in > rejected:
            # Deduplicated (and, with fraud review, scored) once: the MERGE's partition list, the MERGE
            # itself and the review rows all read these rows.
            rows = silver_rows(batch.transform(filter_accepted), plan, now).localCheckpoint(eager=True)
            held.append(rows)
            silver = merge_into(rows, plan.silver, plan.contract.merge, txn, source_is_materialized=True)
            if plan.review is not None:
                flagged_rows = rows.transform(to_review_rows(now))
                flagged = flagged_rows.count()
                if flagged:
                    review = merge_into(flagged_rows, plan.review, REVIEW_MERGE, txn, source_is_materialized=True)
    finally:
        for df in held:
            release(df)
    writes = [outcome for outcome in (quarantine, silver, review) if outcome is not None]
    return BatchReport(
        batch_id=batch_id,
        rows_in=rows_in,
        quarantined=rejected,
        inserted=silver.inserted if silver else 0,
        updated=silver.updated if silver else 0,
        flagged=flagged,
        skipped_writes=sum(not outcome.committed for outcome in writes),
        seconds=time.monotonic() - started,
    )


def release(checkpointed: DataFrame) -> None:
    """Frees the blocks of a localCheckpoint()ed DataFrame now rather than at the next JVM GC."""
    checkpointed._jdf.logicalPlan().rdd().unpersist(False)


def silver_rows(accepted: DataFrame, plan: SilverPlan, now: Column) -> DataFrame:
    """Accepted rows of one batch -> rows in the contract's silver schema, one per key (scored by the
    fraud rules when the plan has them)."""
    rows = accepted.transform(dedupe_for_merge(plan.contract.merge))
    if plan.fraud is not None:
        rows = rows.transform(with_fraud_flags(fraud_history(plan, rows), plan.fraud))
    return rows.transform(plan.contract.shape(now))


def fraud_history(plan: SilverPlan, versions: DataFrame) -> DataFrame:
    """Silver transactions of the batch's users inside the velocity windows the batch needs."""
    from delta.tables import DeltaTable

    spark = versions.sparkSession
    if not DeltaTable.isDeltaTable(spark, plan.silver.path):
        return versions.select(*KNOWN_COLUMNS).limit(0)
    low, high = versions.agg(F.min("transaction_timestamp").cast("string"),
                             F.max("transaction_timestamp").cast("string")).first()
    since = F.lit(low).cast("timestamp") - F.expr(f"INTERVAL {int(plan.fraud.velocity_window_minutes)} MINUTES")
    until = F.lit(high).cast("timestamp")
    return (
        spark.read.format("delta").load(plan.silver.path)
        .where(F.col("transaction_date").between(F.to_date(since), F.to_date(until)))
        .where(F.col("transaction_timestamp").between(since, until))
        .join(versions.select("user_id").distinct(), "user_id", "left_semi")
        .select(*KNOWN_COLUMNS)
    )
