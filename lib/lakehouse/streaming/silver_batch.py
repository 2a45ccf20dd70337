"""The silver foreachBatch handler: one micro-batch of bronze rows -> quarantine, silver, review.

The stream hands the handler bronze's columns and the plan carries their parse (parse_records), applied
when the batch is read: a batch skipped as committed (below) has Spark compile no parse before the
handler runs. Batches parsed before they come (`plan.parse` None) are taken as they are.

Exactly once: each write of a batch carries Delta's transaction identifier (app id, batch id) and
Delta skips a version it already committed for that app id, table by table. The app id is
derived from the query id in the checkpoint's metadata, so a batch re-run after a crash is
skipped wherever it had committed, while a new checkpoint (deleted or moved; batch ids restart
at 0) writes under a new app id instead of being skipped for ever, and so does a checkpoint restored
or rewound behind the tables (lakehouse.streaming.rewind). Beneath that, every write is a
keyed MERGE (insert once, or newest updated_at wins), so even a replay under another app id
changes no row; review is written from what silver holds after its MERGE (streaming.review), so it
follows silver, never the batch's own scoring. `good + quarantined == input` holds per batch: a
row is either accepted (and merged) or has reasons (and is quarantined).

Quarantine's MERGE runs on a thread beside silver's writes (lakehouse.spark.beside, on a clone of the
session, since Delta takes the transaction id from session options): the tables are independent,
so either may commit first, and a batch whose write failed fails whole. The quality row, written
last, waits for both: it is what tells a replayed batch it committed in full.

A batch run again (the first of a new driver, or one this driver started before) skips the work of
what it had committed under its transaction id: everything when its quality row is there (it is not
read at all); when only the quality row is missing, all but that row, written from the batch's counts
that its quarantine or silver commit carries (BATCH_COUNTS: the batch is not read either); otherwise
quarantine's MERGE when quarantine holds it, and silver's rows when silver and review both hold it
(review is written from silver's rows).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Optional

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import TimestampType

from lakehouse.config.model import FraudConfig, Thresholds
from lakehouse.lineage.skip import reported_every
from lakehouse.ops import quality
from lakehouse.ops.metrics import NoMetrics, seconds_since
from lakehouse.ops.phases import batch as timed_batch
from lakehouse.ops.phases import carried, phase
from lakehouse.schemas import Contract
from lakehouse.sinks.commits import txn_commit
from lakehouse.sinks.delta import TableSpec, Txn, ensure_table, last_txn_version, merge_into, table_version
from lakehouse.sinks.scope import checkpointed_with_scope, observed_scope, scope_facts
from lakehouse.spark.beside import Beside, in_own_session
from lakehouse.spark.observed import checkpointed_observing
from lakehouse.spark.udfs import fixed_instant
from lakehouse.streaming.checkpoint import CheckpointError, query_id
from lakehouse.streaming.reference import fx_rates_in_force
from lakehouse.streaming.review import mirror_into_review, review_changes, silver_rows_of
from lakehouse.streaming.rewind import rekeyed_app_id
from lakehouse.streaming.tables import QUARANTINE_MERGE, SILVER_JOB
from lakehouse.transforms.dedup import dedupe_for_merge
from lakehouse.transforms.fraud import KNOWN_COLUMNS, with_fraud_flags
from lakehouse.transforms.parsing import Transform, filter_accepted, is_rejected, reason_classes, reason_classes_of
from lakehouse.transforms.quarantine import to_quarantine_rows
from lakehouse.transforms.transactions import FX_RATE_MISSING, enrich_amount_usd

log = logging.getLogger("lakehouse.streaming")
NO_METRICS = NoMetrics()
_ENSURED: set = set()  # (Spark application id, table path) ensured by ensure_tables_once
_STARTED: dict = {}  # (Spark application id, checkpoint) -> the highest batch id the handler started
_FACTS: dict = {}  # (Spark application id, fraud review?, known reasons) -> observed_facts
BATCH_COUNTS = "batch_counts"  # user metadata of quarantine's and silver's commits: the batch's counts


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
    quality_results: Optional[str] = None  # ops.quality_results, when batches record their checks
    accepted_share: Optional[Thresholds] = None
    lineage_interval_s: Optional[float] = None  # lineage on: batches the listener reports (lakehouse.lineage.skip)
    parse: Optional[Transform] = None  # batches of bronze rows: their parse (parse_records), when a batch is read


@dataclass(frozen=True)
class BatchReport:
    batch_id: int
    rows_in: int
    quarantined: int
    inserted: int
    updated: int
    flagged: int  # rows of the batch's keys flagged in silver after the batch
    skipped_writes: int  # writes Delta skipped as already committed by this query
    seconds: float
    quarantined_by_reason: dict = field(default_factory=dict)  # reason class -> rows (a row counts once per class)
    newest_accepted: Optional[dt.datetime] = None  # the newest Kafka timestamp among accepted rows


def send_batch_metrics(metrics, report: BatchReport, table: str) -> None:
    """Silver's per-batch figures the progress events do not carry (lakehouse.ops.metrics)."""
    dimensions = {"job": SILVER_JOB, "table": table}
    metrics.emit("RowsWritten", report.inserted + report.updated, **dimensions)
    metrics.emit("RowsQuarantined", report.quarantined, **dimensions)
    if report.rows_in:
        metrics.emit("QuarantineRate", 100.0 * report.quarantined / report.rows_in, "Percent", **dimensions)
    for reason, rows in report.quarantined_by_reason.items():
        metrics.emit("RowsQuarantinedByReason", rows, **dimensions, reason=reason)
    age = seconds_since(report.newest_accepted)
    if age is not None:
        metrics.emit("Freshness", age, "Seconds", **dimensions)


def handle_silver_batch(batch_df: DataFrame, batch_id: int, plan: SilverPlan, metrics=NO_METRICS) -> BatchReport:
    """The foreachBatch function (bind `plan` and `metrics`, a lakehouse.ops.metrics publisher, with
    functools.partial)."""
    started = time.monotonic()
    with timed_batch(f"silver.{plan.contract.silver_table}", batch_id), \
            reported_every(batch_df.sparkSession, plan.checkpoint, plan.lineage_interval_s):
        with phase("app_id"):
            txn = Txn(silver_app_id(batch_df.sparkSession, plan.checkpoint), batch_id)
        with phase("replay_check"):
            committed = committed_writes(batch_df.sparkSession, plan, txn)
        if plan.quality_results is not None and plan.quality_results in committed:
            skipped = len(committed) - 1
            log.info("silver.%s batch %d: committed in full before (%d write(s) and its quality row): skipped",
                     plan.contract.silver_table, batch_id, skipped)
            return BatchReport(batch_id=batch_id, rows_in=0, quarantined=0, inserted=0, updated=0, flagged=0,
                               skipped_writes=skipped, seconds=0.0)
        with phase("replay_counts"):
            report = recorded_report(batch_df.sparkSession, batch_id, plan, txn, committed, started)
        if report is None:
            report = write_silver_batch(batch_df, batch_id, plan, txn, started, committed)
        with phase("metrics"):
            send_batch_metrics(metrics, report, f"silver.{plan.contract.silver_table}")
        if plan.quality_results is not None and report.rows_in:
            with phase("quality_append"):
                record_batch_checks(batch_df.sparkSession, plan, report, txn)
    replay = f", {report.skipped_writes} write(s) already committed: skipped" if report.skipped_writes else ""
    log.info(
        "silver.%s batch %d: %d rows in, %d quarantined, %d inserted, %d updated, %d flagged in %.1fs%s",
        plan.contract.silver_table, batch_id, report.rows_in, report.quarantined, report.inserted,
        report.updated, report.flagged, report.seconds, replay,
    )
    return report


def committed_writes(spark, plan: SilverPlan, txn: Txn) -> frozenset[str]:
    """The paths of the plan's tables (quality results included) that hold the batch's transaction id:
    empty for a batch this driver runs for the first time after the ones it started.

    Spark runs a batch again when the driver stopped before marking it done (a kill, a failed
    write, a commit conflict): its first batch in a new driver, or one it already started. Its
    quality row, the batch's last write, being there under the batch's transaction id means every
    write before it was committed.
    """
    key = (spark.sparkContext.applicationId, plan.checkpoint)
    highest = _STARTED.get(key)
    _STARTED[key] = txn.version if highest is None else max(highest, txn.version)
    if highest is not None and txn.version > highest:
        return frozenset()
    paths = [t.path for t in (plan.quarantine, plan.silver, plan.review) if t is not None]
    paths += [plan.quality_results] if plan.quality_results is not None else []
    versions = {path: last_txn_version(spark, path, txn.app_id) for path in paths}
    return frozenset(path for path, version in versions.items() if version is not None and version >= txn.version)


def recorded_report(spark, batch_id: int, plan: SilverPlan, txn: Txn, committed: frozenset[str],
                    started: float) -> Optional[BatchReport]:
    """The report of a replayed batch whose writes all committed before (its quality row did not), from
    the counts its quarantine or silver commit carries (BATCH_COUNTS), without reading the batch. None
    when a write is missing, or when the commit carries no counts (written by an earlier release)."""
    holder = next((table.path for table in (plan.quarantine, plan.silver) if table.path in committed), None)
    if holder is None:
        return None
    counts = recorded_counts(txn_commit(spark, holder, table_version(spark, holder), txn.app_id, txn.version))
    if counts is None:
        return None
    rows_in, rejected, newest = counts["rows_in"], counts["rejected"], counts["newest_accepted"]
    quarantine_missing = rejected and plan.quarantine.path not in committed
    silver_missing = rows_in > rejected and not silver_settled(plan, committed)
    if quarantine_missing or silver_missing:
        return None
    return BatchReport(batch_id=batch_id, rows_in=rows_in, quarantined=rejected, inserted=0, updated=0, flagged=0,
                       skipped_writes=len(committed), seconds=time.monotonic() - started,
                       quarantined_by_reason=counts.get("by_reason", {}),
                       newest_accepted=dt.datetime.fromisoformat(newest) if newest else None)


def recorded_counts(commit) -> Optional[dict]:
    """The BATCH_COUNTS a commit's user metadata carries, if any (other metadata may be any text)."""
    try:
        metadata = json.loads(commit.user_metadata) if commit and commit.user_metadata else None
    except ValueError:
        return None
    return metadata.get(BATCH_COUNTS) if isinstance(metadata, dict) else None


def silver_settled(plan: SilverPlan, committed: frozenset[str]) -> bool:
    """Silver's rows need no work: silver holds the batch's transaction, and so does review (written from
    those rows) if the plan has one."""
    return plan.silver.path in committed and (plan.review is None or plan.review.path in committed)


def batch_counts(rows_in: int, rejected: int, newest_accepted: Optional[dt.datetime],
                 by_reason: Optional[dict] = None) -> dict:
    """The user metadata of a batch's quarantine (with `by_reason`) or silver commit: what
    recorded_report reads back."""
    counts = {"rows_in": rows_in, "rejected": rejected,
              "newest_accepted": newest_accepted.isoformat() if newest_accepted else None}
    return {BATCH_COUNTS: counts if by_reason is None else {**counts, "by_reason": by_reason}}


def record_batch_checks(spark, plan: SilverPlan, report: BatchReport, txn: Txn) -> None:
    """Appends the batch's `accepted_share` check to ops.quality_results, once per batch (the
    batch's transaction id: a replay records nothing twice)."""
    status = plan.accepted_share.judge(report.rows_in, report.quarantined)
    reasons = ", ".join(f"{reason}={rows}" for reason, rows in sorted(report.quarantined_by_reason.items()))
    check = quality.result("silver", f"{txn.app_id}/{txn.version}", f"silver.{plan.contract.silver_table}",
                           "accepted_share", status, rows_checked=report.rows_in, rows_failed=report.quarantined,
                           thresholds=plan.accepted_share, detail=f"quarantined: {reasons}" if reasons else "")
    quality.append_with_spark(spark, plan.quality_results, [check], txn.app_id, txn.version)
    if status != "pass":
        log.warning("silver.%s batch %d: accepted_share %s: %d of %d rows quarantined (%s)",
                    plan.contract.silver_table, report.batch_id, status, report.quarantined, report.rows_in, reasons)


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
    batch_df: DataFrame, batch_id: int, plan: SilverPlan, txn: Optional[Txn], started: Optional[float] = None,
    committed: frozenset[str] = frozenset(),
) -> BatchReport:
    """Writes one batch to quarantine (beside the others), silver and review (each write skipped when empty).

    `txn=None` writes without transaction identifiers: replays then rely on the MERGE keys alone.
    `committed`: the tables that hold the batch's transaction already (committed_writes); their work is
    skipped (silver's rows only when review holds it too).
    """
    started = time.monotonic() if started is None else started
    spark = batch_df.sparkSession
    now = fixed_instant(spark, dt.datetime.now(dt.timezone.utc))
    with phase("table_metadata"):
        ensure_tables_once(spark, plan)
    if plan.parse is not None:
        batch_df = batch_df.transform(plan.parse)
    if plan.fx_rates_path is not None:
        with phase("fx_rates_read"):
            batch_df = batch_df.transform(enrich_amount_usd(fx_rates_in_force(spark, plan.fx_rates_path)))
    # Computed once and cut from the stream's plan: with persist() alone, the stream's progress showed
    # its operators running again for each action of the batch (the MERGEs among them). Blocks
    # lost with an executor fail the batch, which the query re-runs; the writes make that harmless.
    # Every MERGE source below is derived from it deterministically, so Delta need not copy it again.
    # Its counts, refused rows per reason class, and where quarantine's MERGE reads (its rows keep the
    # batch's columns) are observed meanwhile (lakehouse.spark.observed): no Spark job of their own.
    facts, reasons, quarantine_scope = observed_facts(spark, plan)
    with phase("read_parse_fx"):
        batch, totals = checkpointed_observing(batch_df, *facts, *reasons, *quarantine_scope)
    held = [batch]
    quarantining: Optional[Beside] = None
    quarantine = silver = review = None
    flagged = settled = 0  # settled: writes not even tried, as the tables hold the batch's transaction
    try:
        rows_in, rejected = int(totals[0]), int(totals[1])
        newest_accepted = TimestampType().fromInternal(totals[2])  # as a collected row holds it
        by_reason = observed_reasons(plan, totals[len(facts):len(facts) + len(reasons)]) if rejected else {}
        if rejected and plan.quarantine.path in committed:
            if by_reason is None:
                with phase("reason_counts"):
                    by_reason = reason_counts(batch)
            settled += 1
        elif rejected:  # beside silver's writes: another table, and the quality row waits for both
            work = partial(quarantine_batch, in_own_session(batch), plan, txn, now,
                           observed_scope(QUARANTINE_MERGE, batch, totals[len(facts) + len(reasons):]),
                           (rows_in, rejected, newest_accepted), by_reason)
            quarantining = Beside(carried(work), name=f"quarantine-{plan.contract.silver_table}-{batch_id}")
        if rows_in > rejected and silver_settled(plan, committed):
            settled += 1 if plan.review is None else 2
        elif rows_in > rejected:
            # Deduplicated (and, with fraud review, scored) once, their partitions and key bounds found
            # meanwhile: the MERGE's pruning, the MERGE itself and the review's read all use them.
            with phase("dedup_velocity_shape"):
                span = tuple(totals[3:5]) if plan.fraud is not None else None
                rows, scope = checkpointed_with_scope(silver_rows(batch.transform(filter_accepted), plan, now, span),
                                                      plan.contract.merge)
            held.append(rows)
            with phase("silver_merge"):
                silver = merge_into(rows, plan.silver, plan.contract.merge, txn,
                                    user_metadata=batch_counts(rows_in, rejected, newest_accepted),
                                    source_is_materialized=True, table_ensured=True, scope=scope,
                                    source_rows=rows_in - rejected)
            if plan.review is not None:
                with phase("review"):
                    dates = None if scope.partitions is None else list(scope.partitions)
                    in_silver = silver_rows_of(rows, plan.silver, plan.contract.silver_partition, dates)
                    changes, (changed, flagged) = checkpointed_observing(
                        review_changes(in_silver, plan.review, now), F.count(F.lit(1)),
                        F.count(F.when(F.col("is_flagged"), 1)))
                    held.append(changes)
                    if changed:
                        review = mirror_into_review(changes, plan.review, txn, table_ensured=True)
        if quarantining is not None:
            with phase("quarantine_wait"):
                quarantine, by_reason = quarantining.result()
    except BaseException as exc:
        failed = quarantining.join() if quarantining is not None else None
        if failed is not None and failed is not exc:  # the batch fails with exc: say what else did
            log.error("silver.%s batch %d: its quarantine write failed too: %s", plan.contract.silver_table, batch_id,
                      failed)
        raise
    finally:
        if quarantining is not None:
            quarantining.join()
        with phase("release"):
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
        skipped_writes=settled + sum(not outcome.committed for outcome in writes),
        seconds=time.monotonic() - started,
        quarantined_by_reason=by_reason,
        newest_accepted=newest_accepted,
    )


def ensure_tables_once(spark, plan: SilverPlan) -> None:
    """Creates or evolves the plan's tables at the first batch of this Spark application, not at each
    write (a job's start ensures them too; a component test may call the handler on new paths)."""
    for table in (plan.silver, plan.quarantine, plan.review):
        key = (spark.sparkContext.applicationId, table.path) if table is not None else None
        if key is not None and key not in _ENSURED:
            ensure_table(spark, table)
            _ENSURED.add(key)


def observed_facts(spark, plan: SilverPlan) -> tuple[list[Column], list[Column], list[Column]]:
    """batch_facts, reason_facts and quarantine's scope_facts of `plan`, built at its first batch in this
    Spark application and reused (each column is a call into the JVM: 30-40 ms a batch)."""
    key = (spark.sparkContext.applicationId, plan.fraud is not None, known_reasons(plan))
    if key not in _FACTS:
        _FACTS[key] = (batch_facts(plan), reason_facts(plan), scope_facts(QUARANTINE_MERGE, is_rejected()))
    return _FACTS[key]


def batch_facts(plan: SilverPlan) -> list[Column]:
    """What the handler needs to know of a batch, in one aggregate: rows, rejected rows, the newest
    accepted Kafka timestamp (in microseconds since the epoch) and, with fraud review, the accepted
    rows' first and last transaction_timestamp (as text: the velocity look-up's bounds, exact in the
    session's zone)."""
    accepted = ~is_rejected()
    facts = [F.count(F.lit(1)), F.count(F.when(is_rejected(), 1)),
             F.unix_micros(F.max(F.when(accepted, F.col("kafka_timestamp"))))]
    if plan.fraud is not None:
        at = F.when(accepted, F.col("transaction_timestamp"))
        facts += [F.min(at).cast("string"), F.max(at).cast("string")]
    return facts


def quarantine_batch(batch: DataFrame, plan: SilverPlan, txn: Optional[Txn], now: Column, scope,
                     counts: tuple, by_reason: Optional[dict]) -> tuple:
    """Merges the batch's rejected rows into quarantine, its commit carrying the batch's `counts` (rows in,
    rejected, newest accepted) and rows per reason class (`by_reason`, counted here when None): (the
    MERGE's outcome, rows per reason class)."""
    with phase("quarantine"):
        by_reason = reason_counts(batch) if by_reason is None else by_reason
        outcome = merge_into(batch.transform(to_quarantine_rows(now)), plan.quarantine, QUARANTINE_MERGE, txn,
                             user_metadata=batch_counts(*counts, by_reason), source_is_materialized=True,
                             table_ensured=True, scope=scope)
    return outcome, by_reason


def reason_facts(plan: SilverPlan) -> list[Column]:
    """Aggregate columns over a batch: its rows refused for each reason class the plan can refuse rows for
    (known_reasons; a row counts once per class), then its refused rows with a class not among them."""
    known, classes = known_reasons(plan), reason_classes_of()
    facts = [F.count(F.when(F.array_contains(classes, name), 1)) for name in known]
    return [*facts, F.count(F.when(F.exists(classes, lambda name: ~name.isin(*known)), 1))]


def observed_reasons(plan: SilverPlan, values: list) -> Optional[dict[str, int]]:
    """Rows per reason class from the values of `reason_facts(plan)`; None when a refused row has a class
    the plan does not know (reason_counts then counts them)."""
    *counts, unknown = values
    if unknown:
        return None
    return {name: int(rows) for name, rows in zip(known_reasons(plan), counts) if rows}


def known_reasons(plan: SilverPlan) -> tuple[str, ...]:
    """The reason classes parsing and, with FX rates, the amount's conversion refuse rows for."""
    return reason_classes(plan.contract) + ((FX_RATE_MISSING,) if plan.fx_rates_path is not None else ())


def reason_counts(batch: DataFrame) -> dict[str, int]:
    """Rejected rows per reason class (`missing_field:amount` -> missing_field): a Spark job."""
    classes = F.array_distinct(reason_classes_of())
    counted = batch.where(is_rejected()).select(F.explode(classes).alias("reason")).groupBy("reason").count()
    return {row["reason"]: int(row["count"]) for row in counted.collect()}


def release(checkpointed: DataFrame) -> None:
    """Frees the blocks of a localCheckpoint()ed DataFrame now rather than at the next JVM GC."""
    checkpointed._jdf.logicalPlan().rdd().unpersist(False)


def silver_rows(accepted: DataFrame, plan: SilverPlan, now: Column, span: Optional[tuple] = None) -> DataFrame:
    """Accepted rows of one batch -> rows in the contract's silver schema, one per key (scored by the
    fraud rules when the plan has them; `span`: see fraud_history)."""
    rows = accepted.transform(dedupe_for_merge(plan.contract.merge))
    if plan.fraud is not None:
        rows = rows.transform(with_fraud_flags(fraud_history(plan, rows, span), plan.fraud))
    return rows.transform(plan.contract.shape(now))


def fraud_history(plan: SilverPlan, versions: DataFrame, span: Optional[tuple] = None) -> DataFrame:
    """Silver transactions of the batch's users inside the velocity windows the batch needs, in whole hours.

    `span`: the first and last transaction_timestamp (text) of the batch's accepted rows when already
    known (batch_facts), a range holding every version's; computed from `versions` otherwise.

    Whole hours: Spark inlines the bounds into the look-up's generated code, so bounds shared by every
    batch of an hour let that code be compiled once, not per batch. The extra rows change no count: a
    row's window looks back from it, and a history row the batch replaces gives way (with_fraud_flags).
    """
    from delta.tables import DeltaTable

    spark = versions.sparkSession
    with phase("velocity_lookup"):
        if span is None:
            if not DeltaTable.isDeltaTable(spark, plan.silver.path):
                return versions.select(*KNOWN_COLUMNS).limit(0)
            span = versions.agg(F.min("transaction_timestamp").cast("string"),
                                F.max("transaction_timestamp").cast("string")).first()
        low, high = span
    window = F.expr(f"INTERVAL {int(plan.fraud.velocity_window_minutes)} MINUTES")
    since = F.date_trunc("hour", F.lit(low).cast("timestamp") - window)
    until = F.date_trunc("hour", F.lit(high).cast("timestamp")) + F.expr("INTERVAL 1 HOUR")
    return (
        spark.read.format("delta").load(plan.silver.path)
        .where(F.col("transaction_date").between(F.to_date(since), F.to_date(until)))
        .where(F.col("transaction_timestamp").between(since, until))
        .join(versions.select("user_id").distinct(), "user_id", "left_semi")
        .select(*KNOWN_COLUMNS)
    )
