"""S8's driver, run by spark-submit: where the time of one small bronze and silver micro-batch goes.

The always-on jobs' queries (lakehouse.streaming.bronze/silver, processing-time trigger) run in this
one driver. Per round and per contract, `--rows` records (one of them refused by the contract) are
sent to the contract's topic; the scenario waits for bronze's micro-batch that takes them, then for
silver's. One contract at a time, so the others' queries are idle meanwhile. Each batch's phases are
measured where the time goes: Spark's own progress (offsets, planning, the write or foreachBatch call,
the checkpoint's offset and commit logs) and, inside silver's foreachBatch, the handler's timers
(lakehouse.ops.phases); from the event log, the time Spark jobs of the batch ran (the rest of addBatch
is the driver's: planning, the Delta log and commit); from Spark's codegen metrics, the classes Janino
compiled during the round, and from the JVM the time its JIT compilers spent compiling. The first
`--warmup` rounds are not kept as measured batches; their totals and JIT time are kept apart (`warmup`),
to show the driver warming up.

    spark-submit ... bench/scenarios/fixed_cost_job.py --env local --set lake.root=... \
        --set streaming.topics.user_events=T1 ... --contracts user_events,transaction_events \
        --set spark.conf.spark.eventLog.enabled=true --set spark.conf.spark.eventLog.dir=EVENTS \
        --rows 10 --rounds 3 --warmup 1 --out result.json --event-logs EVENTS
"""
from __future__ import annotations

import datetime as dt
import json
import random
import sys
import threading
import time
from pathlib import Path

from lakehouse.generators import records

# Spark's progress `durationMs` keys, in the order a micro-batch runs them.
PROGRESS_PHASES = ("latestOffset", "getBatch", "queryPlanning", "walCommit", "addBatch", "commitOffsets")
WAIT_S = 120.0


def payloads(contract: str, rng: random.Random, count: int, at: dt.datetime) -> list[tuple[bytes, bytes]]:
    """`count` records of the contract (key, value); the first is not JSON (quarantined)."""
    made = []
    for number in range(count):
        user = rng.randint(1, 50)
        if contract == records.EVENTS:
            payload = records.user_event(rng, user, at, records.new_uuid(rng))
        elif contract == records.TRANSACTIONS:
            payload = records.transaction(rng, user, at, records.amount(rng, 0.2))
        else:
            payload = records.metric(rng, f"host-{user}", at)
        made.append((str(user).encode(), b"not json" if number == 0 else records.encode(payload)))
    return made


def new_progress(query, after: int) -> list[dict]:
    """The query's progress entries of batches after `after` that read rows (an idle trigger reports the
    id of the batch it would run next, so only batches with rows are compared)."""
    return [p for p in query.recentProgress if p["batchId"] > after and p["numInputRows"] > 0]


def last_with_rows(query) -> int:
    return max((p["batchId"] for p in new_progress(query, -1)), default=-1)


def wait_for_batch(query, after: int) -> dict:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if query.exception() is not None:
            raise RuntimeError(f"{query.name} failed: {query.exception()}")
        found = new_progress(query, after)
        if found:
            return found[-1]
        time.sleep(0.05)
    raise TimeoutError(f"{query.name}: no micro-batch with rows within {WAIT_S:.0f}s")


def progress_phases(progress: dict) -> dict:
    """Seconds per progress phase, plus what the trigger spent outside them."""
    durations = progress["durationMs"]
    phases = {name: durations.get(name, 0) / 1000 for name in PROGRESS_PHASES}
    phases["other"] = durations["triggerExecution"] / 1000 - sum(phases.values())
    return {"total_s": durations["triggerExecution"] / 1000, "rows": progress["numInputRows"], "phases": phases,
            "query_id": progress["id"], "batch_id": progress["batchId"]}


def spark_job_seconds(event_log_folder: Path) -> dict[tuple[str, int], float]:
    """(query id, batch id) -> seconds during which Spark jobs of that micro-batch ran (their union),
    from the application's event log."""
    spans: dict[tuple[str, int], list] = {}
    started: dict[int, tuple] = {}
    for path in event_log_folder.iterdir():
        with open(path) as events:
            for line in events:
                event = json.loads(line)
                kind = event.get("Event")
                if kind == "SparkListenerJobStart":
                    properties = event.get("Properties") or {}
                    if "sql.streaming.queryId" in properties and "streaming.sql.batchId" in properties:
                        key = (properties["sql.streaming.queryId"], int(properties["streaming.sql.batchId"]))
                        started[event["Job ID"]] = (key, event["Submission Time"])
                elif kind == "SparkListenerJobEnd" and event["Job ID"] in started:
                    key, begin = started.pop(event["Job ID"])
                    spans.setdefault(key, []).append((begin, event["Completion Time"]))
    return {key: _union_ms(intervals) / 1000 for key, intervals in spans.items()}


def _union_ms(intervals: list) -> float:
    total, end = 0.0, None
    for begin, finish in sorted(intervals):
        if end is None or begin > end:
            total, end = total + finish - begin, finish
        elif finish > end:
            total, end = total + finish - end, finish
    return total


def add_spark_jobs(results: dict, seconds: dict) -> None:
    """Splits each measured batch's addBatch into the time Spark jobs ran and the driver's own time."""
    for jobs in results.values():
        for batches in (jobs["bronze"], jobs["silver"]):
            for batch in batches:
                ran = seconds.pop((batch.pop("query_id"), batch["batch_id"]), 0.0)
                batch["spark_jobs_s"] = ran


def measure(spark, cfg, contracts: list[str], rows: int, rounds: int, warmup: int, trigger: str) -> dict:
    from lakehouse.ops import phases
    from lakehouse.schemas import CONTRACTS
    from lakehouse.streaming.bronze import start_bronze
    from lakehouse.streaming.options import BronzeOptions, SilverOptions, Trigger
    from lakehouse.streaming.silver import start_silver

    recorded, lock = [], threading.Lock()

    def keep(record: dict) -> None:
        with lock:
            recorded.append(record)

    phases.install(keep)
    chosen = tuple(CONTRACTS[name] for name in contracts)
    every = Trigger("processing-time", trigger)
    bronze = start_bronze(spark, cfg, BronzeOptions(chosen, every, 100_000, None, "earliest", None, None))
    silver = start_silver(spark, cfg, SilverOptions(chosen, every, 1_000))
    queries = {q.name.split(" <- ")[0]: q for q in [*bronze.queries, *silver.queries]}
    rng = random.Random(8)
    results = {name: {"bronze": [], "silver": [], "warmup": []} for name in contracts}
    compiled = spark._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME()
    jit = spark._jvm.java.lang.management.ManagementFactory.getCompilationMXBean()
    try:
        from lakehouse.kafka.producer import EventProducer

        for number in range(warmup + rounds):
            for contract in chosen:
                bronze_query = queries[f"bronze.{contract.name}"]
                silver_query = queries[f"silver.{contract.silver_table}"]
                last = {q: last_with_rows(q) for q in (bronze_query, silver_query)}
                classes_before, jit_before = compiled.getCount(), jit.getTotalCompilationTime()
                with EventProducer(cfg) as producer:
                    for key, value in payloads(contract.name, rng, rows, dt.datetime.now(dt.timezone.utc)):
                        producer.send(cfg.streaming.topics[contract.name], key, value)
                bronze_batch = wait_for_batch(bronze_query, last[bronze_query])
                silver_batch = wait_for_batch(silver_query, last[silver_query])
                classes = compiled.getCount() - classes_before
                jit_ms = jit.getTotalCompilationTime() - jit_before  # the round's, both jobs' and the others'
                if number < warmup:
                    results[contract.name]["warmup"].append(
                        {"bronze_s": progress_phases(bronze_batch)["total_s"],
                         "silver_s": progress_phases(silver_batch)["total_s"], "jit_ms": jit_ms})
                    continue
                handler = next(r for r in reversed(recorded) if r["label"] == f"silver.{contract.silver_table}"
                               and r["batch_id"] == silver_batch["batchId"])
                measured = progress_phases(silver_batch)
                measured["handler"] = {"total_s": handler["total_s"], "phases": handler["phases"],
                                       "beside": handler.get("beside", {})}
                measured["classes_compiled"] = classes  # the round's: bronze's batch and silver's
                measured["jit_ms"] = jit_ms
                results[contract.name]["bronze"].append(progress_phases(bronze_batch))
                results[contract.name]["silver"].append(measured)
                _log(f"round {number - warmup + 1}/{rounds} {contract.name}: bronze "
                     f"{results[contract.name]['bronze'][-1]['total_s']:.2f}s, silver {measured['total_s']:.2f}s")
    finally:
        phases.install(None)
        silver.stop()
        bronze.stop()
    return results


def _log(message: str) -> None:
    print(f"fixed_cost_job: {message}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    from lakehouse.runtime.entrypoint import configure_logging, parse_config
    from lakehouse.spark import build_spark

    def add_arguments(parser) -> None:
        parser.add_argument("--contracts", required=True, help="comma-separated contracts")
        parser.add_argument("--rows", type=int, default=10, help="records per micro-batch")
        parser.add_argument("--rounds", type=int, default=3, help="measured micro-batches per contract")
        parser.add_argument("--warmup", type=int, default=1, help="rounds run first, not kept")
        parser.add_argument("--interval", default="1 second", help="processing-time trigger")
        parser.add_argument("--out", required=True)
        parser.add_argument("--event-logs", required=True, help="the folder of spark.eventLog.dir")

    configure_logging()
    cfg, args = parse_config("S8 small micro-batch fixed cost", argv, add_arguments)
    spark = build_spark(cfg, "bench-fixed-cost")
    try:
        results = measure(spark, cfg, args.contracts.split(","), args.rows, args.rounds, args.warmup, args.interval)
    finally:
        spark.stop()
    add_spark_jobs(results, spark_job_seconds(Path(args.event_logs)))
    with open(args.out, "w") as out:
        json.dump(results, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
