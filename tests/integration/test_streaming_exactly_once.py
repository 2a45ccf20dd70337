"""Exactly once through crashes: bronze and silver as spark-submit processes, SIGKILLed inside their micro-batches.

Traffic for the three contracts (duplicates, status updates out of order, malformed records, amounts over
the fraud thresholds, velocity bursts) is produced, half before the jobs start and half from the first
kill on. Bronze and silver run side by side as processing-time spark-submit processes. The test polls
their checkpoints and Delta logs every 25 ms and SIGKILLs a job (its process group: JVM and Python) as
soon as a window it still owes opens (tests.integration.kill_windows, tests.integration.killed_jobs):
- bronze: batch N planned (offsets/N) and not committed (no commits/N), twice;
- silver, whose batch writes quarantine beside silver, then fraud_review after silver, each commit carrying
  Delta's transaction id (app id, N): silver committed and fraud_review not, twice; quarantine committed
  and silver not, once. Every window lies inside a planned, uncommitted batch (offsets/N, no commits/N);
  a kill before any write of the batch is recorded, not required.
A kill counts where the files show it landed once the process is dead, and only if the restart then
commits a write the killed run still owed; a missed window is tried again on a later batch. While bronze
runs, a second instance on its checkpoint must be refused. Finally bronze and then silver run with the
available-now trigger (also when a hunt gave up: too many kills, or nothing left to read).

Then, compared as multisets with what the broker acknowledged (tests.integration.produced): bronze holds
each offset once; silver each event, metric sample and newest transaction version once; quarantine each
malformed record once, with its reason; silver.fraud_review each flagged transaction once, nothing else.
Last, every window must have had its quota of kills. The seed (LAKEHOUSE_TEST_SEED, random by default)
fixes the traffic and the kill delays; it is printed and added to every assertion message.
"""
from __future__ import annotations

import contextlib
import os
import random
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Callable

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType, TimestampType

from lakehouse.generators.publish import publish
from lakehouse.generators.traffic import Record, Traffic, TrafficSpec, generate
from lakehouse.schemas import Contract
from lakehouse.schemas.system_metrics import SYSTEM_METRICS
from lakehouse.schemas.transaction_events import TRANSACTION_EVENTS
from lakehouse.schemas.user_events import USER_EVENTS
from lakehouse.spark import spark_submit_args
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.lock import CheckpointLockedError
from lakehouse.streaming.tables import (
    bronze_checkpoint,
    bronze_table,
    quarantine_table,
    review_table,
    silver_checkpoint,
    silver_table,
)
from tests.integration.kill_windows import (
    BRONZE_PLANNED,
    QUARANTINE_NOT_SILVER,
    SILVER_NOT_REVIEW,
    SILVER_PLANNED,
    DeltaLog,
    QueryFiles,
)
from tests.integration.killed_jobs import Hunt, Job, Kill
from tests.integration.produced import (
    EVENT_COLUMNS,
    METRIC_COLUMNS,
    REVIEW_COLUMNS,
    TRANSACTION_COLUMNS,
    Produced,
    ReviewTruth,
    acknowledged,
    bronze_rows,
    metric_rows,
    quarantine_rows,
    review_truth,
    transaction_rows,
    user_event_rows,
)
from tests.integration.streaming_support import bronze_options, stream_config, table, wait_for

# Jobs start their queries in this order: transactions first, the only one writing all three silver tables.
CONTRACTS = (TRANSACTION_EVENTS, USER_EVENTS, SYSTEM_METRICS)
# 4% malformed: most micro-batches write quarantine; 8% over a fraud threshold: most write fraud_review.
TRAFFIC = TrafficSpec(users=100, user_events=900, transactions=700, system_metrics=300, malformed_share=0.04,
                      large_share=0.08)
BRONZE_QUOTAS = {BRONZE_PLANNED: 2}
# Kills aim at the first window owed; silver's other queries, mid-batch at any moment, often fill the rest.
# Every window lies inside a planned, uncommitted batch: "nothing written yet" is recorded, not required.
SILVER_QUOTAS = {SILVER_NOT_REVIEW: 2, QUARANTINE_NOT_SILVER: 1, SILVER_PLANNED: 0}
SPARE_KILLS = 4
POLL_S = 0.025
HUNT_STALL_S = 300  # the hunt fails when no batch commits and no kill lands for this long
# Small micro-batches while the kills happen (a silver batch reads about one bronze batch, and bronze
# finishes in small ones too, so silver has batches left to be killed in); silver finishes in a large one.
BATCH_FLAGS = {
    "bronze": {"processing-time": ["--max-offsets-per-trigger", "200"],
               "available-now": ["--max-offsets-per-trigger", "200"]},
    "silver": {"processing-time": ["--max-files-per-trigger", "3"],
               "available-now": ["--max-files-per-trigger", "1000"]},
}
QUARANTINE_COLUMNS = ("kafka_partition", "kafka_offset", "reasons")
ISO_MILLIS = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a slow machine's hunt is waited for while batches commit (HUNT_STALL_S)
def test_sigkilled_drivers_lose_and_duplicate_nothing(spark, tmp_path, new_topic):
    seed = int(os.environ.get("LAKEHOUSE_TEST_SEED") or random.SystemRandom().randrange(1_000_000))
    print(f"\nseed {seed}: LAKEHOUSE_TEST_SEED={seed} repeats this traffic and these kill delays")
    with seed_in_failures(seed):
        topics = {contract.name: new_topic(partitions=3, prefix=contract.name) for contract in CONTRACTS}
        cfg = stream_config(tmp_path, topics, "spark.driver_memory=1g")
        traffic = generate(replace(TRAFFIC, seed=seed))
        first, rest = halves(traffic.records)
        produced = acknowledged(first, publish(cfg, Traffic(first, traffic.truth), track_positions=True))
        bronze, silver = streaming_jobs(cfg, topics, tmp_path)
        kills: list[Kill] = []
        rng = random.Random(seed)
        hunts = (Hunt(bronze, BRONZE_QUOTAS, sum(BRONZE_QUOTAS.values()) + SPARE_KILLS, rng, kills),
                 Hunt(silver, SILVER_QUOTAS, sum(SILVER_QUOTAS.values()) + SPARE_KILLS, rng, kills))
        try:
            with ThreadPoolExecutor(1) as pool:
                published = kill_in_every_window(
                    spark, cfg, hunts,
                    lambda: pool.submit(publish, cfg, Traffic(rest, traffic.truth), track_positions=True),
                )
        finally:
            for job in (bronze, silver):
                if job.is_running():
                    job.kill()
        produced += acknowledged(rest, published.result())
        print(f"{len(produced)} records produced, {sum(p.expected_reason is not None for p in produced)} "
              f"malformed; {len(kills)} kills, {bronze.starts + silver.starts} starts")
        assert_bronze_holds_each_offset_once(spark, cfg, produced)
        assert_silver_holds_the_produced_rows(spark, cfg, produced)
        assert_fraud_review_holds_each_flagged_transaction_once(spark, cfg, review_truth(produced, cfg.streaming.fraud))
        assert_every_window_was_hit(hunts, kills)


@contextlib.contextmanager
def seed_in_failures(seed: int):
    try:
        yield
    except AssertionError as failure:
        failure.args = (f"{failure}\n(seed {seed}: LAKEHOUSE_TEST_SEED={seed} repeats this traffic and these kill "
                        "delays)",)
        raise


def halves(records: list[Record]) -> tuple[list[Record], list[Record]]:
    """The first and second half of each contract's records, each in the order generated."""
    first: list[Record] = []
    rest: list[Record] = []
    for contract in CONTRACTS:
        own = [record for record in records if record.contract == contract.name]
        first += own[: len(own) // 2]
        rest += own[len(own) // 2:]
    return first, rest


def streaming_jobs(cfg, topics: dict[str, str], tmp_path: Path) -> tuple[Job, Job]:
    overrides = [f"lake.root={tmp_path}/lake", f"lake.checkpoint_root={tmp_path}/checkpoints",
                 "spark.shuffle_partitions=2", "spark.driver_memory=1g",
                 *(f"streaming.topics.{contract}={topic}" for contract, topic in topics.items())]
    job_args = ["--env", "local", *(f"--set={o}" for o in overrides),
                "--topics", ",".join(topics), "--processing-time", "1 second"]
    logs = tmp_path / "logs"
    logs.mkdir()
    bronze_queries = [QueryFiles(c.name, Path(bronze_checkpoint(cfg, c)),
                                 {"bronze": DeltaLog(bronze_table(cfg, c).path)}) for c in CONTRACTS]
    silver_queries = [QueryFiles(c.name, Path(silver_checkpoint(cfg, c)), silver_logs(cfg, c)) for c in CONTRACTS]
    submit_args = spark_submit_args(cfg)
    return (Job("bronze", submit_args, job_args, BATCH_FLAGS["bronze"], bronze_queries, logs),
            Job("silver", submit_args, job_args, BATCH_FLAGS["silver"], silver_queries, logs))


def silver_logs(cfg, contract: Contract) -> dict[str, DeltaLog]:
    """The tables a silver query writes, by role."""
    tables = {"quarantine": quarantine_table(cfg, contract), "silver": silver_table(cfg, contract)}
    if contract.fraud_review:
        tables["review"] = review_table(cfg)
    return {role: DeltaLog(spec.path) for role, spec in tables.items()}


def kill_in_every_window(spark, cfg, hunts: tuple[Hunt, Hunt], publish_rest: Callable[[], Future]) -> Future:
    """Runs bronze and silver, kills each in every window it owes and finishes it; the second half of the
    traffic is published (`publish_rest`) from the first kill on. Returns that publishing."""
    bronze, silver, kills = hunts[0].job, hunts[1].job, hunts[0].kills
    bronze.start()
    silver.start()
    second_instance_is_refused(spark, cfg, bronze)
    published: list[Future] = []

    def step() -> None:
        if not published and kills:
            published.append(publish_rest())
        # Bronze is killed once each topic has a batch in bronze, so silver has every contract's rows early.
        hunts[0].step(may_kill=all(query.has_committed() for query in bronze.queries),
                      upstream_done=bool(published) and published[0].done())
        hunts[1].step(may_kill=True, upstream_done=hunts[0].done)

    def progress() -> tuple:
        return len(kills), bronze.committed_batches(), silver.committed_batches()

    try:
        wait_for(lambda: all(hunt.done for hunt in hunts), HUNT_STALL_S, "the jobs to be done", step,
                 interval_s=POLL_S, progress=progress)
    except AssertionError as stalled:
        raise AssertionError(f"{stalled}; windows still owed: {[w.name for hunt in hunts for w in hunt.owed()]}; "
                             "kills:\n" + "\n".join(map(str, kills))) from stalled
    for hunt in hunts:
        hunt.confirm()
    return published[0]


def second_instance_is_refused(spark, cfg, running: Job) -> None:
    """Another run on the checkpoint of the running bronze process must fail before touching it."""
    lock = Path(f"{bronze_checkpoint(cfg, CONTRACTS[0])}.lock")
    wait_for(lambda: lock.exists() and lock.read_text().startswith("pid"), 180, "bronze to lock its checkpoint",
             running.check_running, interval_s=0.1)
    refusal = rf"checkpoint .*kafka_to_bronze/{CONTRACTS[0].name} is in use by pid"
    with pytest.raises(CheckpointLockedError, match=refusal):
        start_bronze(spark, cfg, bronze_options(",".join(c.name for c in CONTRACTS)))
    assert running.is_running()
    print("second bronze instance on the same checkpoint: refused")


def assert_every_window_was_hit(hunts: tuple[Hunt, Hunt], kills: list[Kill]) -> None:
    """Each window got its quota of kills landed there and confirmed by the restart (every window lies
    inside a batch planned and not committed: offsets/N without commits/N)."""
    history = "\n".join(map(str, kills))
    for hunt in hunts:
        for window, quota in hunt.quotas.items():
            hits = hunt.hits(window, confirmed_only=True)
            assert hits >= quota, f"'{window.name}': {hits} of {quota} kills landed and confirmed:\n{history}"
            print(f"'{window.name}': {hits} kills landed there, confirmed")
    print(f"{sum(not kill.landed for kill in kills)} of {len(kills)} kills missed their aim and were tried again")


def assert_same_rows(name: str, found: Counter, expected: Counter) -> None:
    missing, extra = expected - found, found - expected
    print(f"{name}: {sum(found.values())} rows, {sum(expected.values())} expected")
    assert sum(missing.values()) + sum(extra.values()) == 0, (
        f"{name}: {sum(missing.values())} rows missing, {sum(extra.values())} extra or repeated; "
        f"missing e.g. {list(missing)[:3]}; extra e.g. {list(extra)[:3]}"
    )


def assert_bronze_holds_each_offset_once(spark, cfg, produced: list[Produced]) -> None:
    for contract in CONTRACTS:
        rows = table(spark, cfg, "bronze", contract.name).select("kafka_partition", "kafka_offset", "value").collect()
        found = Counter((r.kafka_partition, r.kafka_offset, None if r.value is None else bytes(r.value)) for r in rows)
        assert_same_rows(f"bronze.{contract.name}", found, bronze_rows(produced, contract.name))


def assert_silver_holds_the_produced_rows(spark, cfg, produced: list[Produced]) -> None:
    expected = {USER_EVENTS: (EVENT_COLUMNS, user_event_rows(produced)),
                TRANSACTION_EVENTS: (TRANSACTION_COLUMNS, transaction_rows(produced)),
                SYSTEM_METRICS: (METRIC_COLUMNS, metric_rows(produced))}
    for contract, (columns, rows) in expected.items():
        silver = table(spark, cfg, "silver", contract.silver_table)
        assert_same_rows(f"silver.{contract.silver_table}", as_produced(silver, columns), rows)
        quarantined = table(spark, cfg, "quarantine", contract.name)
        assert_same_rows(f"quarantine.{contract.name}", as_produced(quarantined, QUARANTINE_COLUMNS),
                         quarantine_rows(produced, contract.name))


def as_produced(df: DataFrame, columns: tuple[str, ...]) -> Counter:
    """Rows of `columns` written the way producers write them: ISO times with milliseconds, decimal text
    (arrays as tuples)."""
    types = {f.name: f.dataType for f in df.schema.fields}

    def column(name: str):
        if isinstance(types[name], TimestampType):
            return F.date_format(name, ISO_MILLIS).alias(name)
        return F.col(name).cast("string").alias(name) if isinstance(types[name], DecimalType) else F.col(name)

    rows = df.select(*map(column, columns)).collect()
    return Counter(tuple(tuple(v) if isinstance(v, list) else v for v in row) for row in rows)


def assert_fraud_review_holds_each_flagged_transaction_once(spark, cfg, truth: ReviewTruth) -> None:
    review = spark.read.format("delta").load(review_table(cfg).path)
    rows = list(as_produced(review, (*REVIEW_COLUMNS, "fraud_reasons")).elements())
    print(f"silver.fraud_review: {len(rows)} rows; {len(truth.over_threshold)} transactions over a threshold, "
          f"{len(truth.may_be_flagged)} the velocity rule may flag")
    reviewed = Counter(row[0] for row in rows)
    assert [i for i, n in reviewed.items() if n > 1] == [], "transactions reviewed more than once"
    assert Counter(row[:8] for row in rows) - truth.versions == Counter(), "review rows of no produced version"
    over_ids = {row[0] for row in truth.over_threshold}
    assert_same_rows("silver.fraud_review over a threshold", Counter(row[:6] for row in rows if row[0] in over_ids),
                     truth.over_threshold)
    assert set(reviewed) - over_ids - truth.may_be_flagged == set(), "reviewed transactions no fraud rule flags"
    misfits = [(row[0], row[8]) for row in rows if not reasons_fit(row[0], row[8], over_ids, truth.may_be_flagged)]
    assert misfits == [], "fraud reasons that do not fit the transaction"
    assert_silver_flags_match_review(spark, cfg, Counter(row[:6] for row in rows), over_ids,
                                     over_ids | truth.may_be_flagged)


def reasons_fit(transaction_id: str, reasons: tuple[str, ...], over_ids: set[str], may_be_flagged: set[str]) -> bool:
    """The amount reason exactly when over a threshold; velocity only where the rule may flag."""
    over = "amount_over_threshold" in reasons
    allowed = {"amount_over_threshold", "velocity"} if transaction_id in may_be_flagged else {"amount_over_threshold"}
    return bool(reasons) and over == (transaction_id in over_ids) and set(reasons) <= allowed


def assert_silver_flags_match_review(spark, cfg, reviewed: Counter, over_ids: set[str], flaggable: set[str]) -> None:
    """Silver flags what is over a threshold and nothing no rule may flag; a flagged version is reviewed as is."""
    silver = table(spark, cfg, "silver", TRANSACTION_EVENTS.silver_table)
    flagged = as_produced(silver.where("is_flagged"), TRANSACTION_COLUMNS)
    flagged_ids = {row[0] for row in flagged}
    assert over_ids - flagged_ids == set(), "transactions over a threshold not flagged in silver.transactions"
    assert flagged_ids - flaggable == set(), "transactions flagged in silver that no fraud rule flags"
    assert flagged - reviewed == Counter(), "versions flagged in silver.transactions but not reviewed"
