"""S9's driver, run by spark-submit: what job metrics and lineage add to a small silver micro-batch.

The real silver run (lakehouse.streaming.silver.start_silver: available-now, one bronze file per
micro-batch, quality results recorded) over bronze.transaction_events, started again for each block
of `--batches` new bronze files of `--rows` records. Blocks rotate between three sides in the same
JVM, so the shared machine's drift and the JIT's warm-up fall on all alike:

- off:   metrics and lineage disabled, and the lineage Spark listener detached from the listener bus;
- on:    metrics to CloudWatch (`metrics.endpoint`: moto locally), the driver's lineage runs and the
         Spark listener (the one `spark.extraListeners` created, attached again: OpenLineage's behind
         the project's filter) to `lineage.file`, as configured: the listener reports the batches'
         writes for the first batch of the application, then one per `lineage.batch_report_interval_s`;
- every: as on, with the listener reporting every batch's writes (`batch_report_interval_s` 0).

Per block: each batch's duration (its progress' durationMs.triggerExecution), the time Spark's
listener bus then needed to handle every event (the listeners' work is asynchronous: a batch pays
for it only in the CPU it shares, unless they fall behind) and the block's wall time from the run's
start to that drain (with the run's start and stop: the lineage runs' START and COMPLETE, the
metrics' last flush), the driver's CPU time over that span, and the lineage events written then.
The session starts with lineage enabled.

    spark-submit ... bench/scenarios/overhead_job.py --env local --set lineage.enabled=true \
        --set lineage.file=... --rows 50 --batches 5 --rounds 3 --warmup 3 --out result.json
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import time

SIDES = ("off", "on", "every")
DRAIN_TIMEOUT_MS = 600_000


def transaction(number: int, at: str) -> str:
    """One transaction_events record (a Kafka value), valid for the contract."""
    return json.dumps({"transaction_id": f"tx-{number}", "user_id": str(number % 50), "amount": "12.50",
                       "currency": "EUR", "status": "pending", "payment_method": "card",
                       "merchant_category": "games", "transaction_timestamp": at, "created_at": at,
                       "updated_at": at, "schema_version": "1.0"})


def append_bronze(spark, path: str, first: int, files: int, rows: int) -> None:
    """`files` appends of `rows` records each to bronze (one file, so one silver micro-batch, each)."""
    from lakehouse.schemas.lake import BRONZE

    for number in range(first, first + files):
        now = dt.datetime.now(dt.timezone.utc)
        records = [("transaction_events", 0, number * rows + i, now, 0, b"k",
                    transaction(number * rows + i, now.isoformat()).encode(), [], now, now.date(), None)
                   for i in range(rows)]
        spark.createDataFrame(records, BRONZE).coalesce(1).write.format("delta").mode("append").save(path)


class LineageListener:
    """The lineage Spark listener of this SparkContext, detached from and attached to its bus."""

    def __init__(self, spark):
        from lakehouse.spark.session import LINEAGE_LISTENER

        self.context = spark.sparkContext._jsc.sc()
        found = [listener for listener in self.context.listenerBus().listeners()
                 if listener.getClass().getName() == LINEAGE_LISTENER]
        if not found:
            raise RuntimeError("no lineage listener on the bus: lineage.enabled, the openlineage-spark and "
                               "lakehouse-udf jars?")
        self.listener = found[0]
        self.attached = True

    def attach(self, on: bool) -> None:
        if on and not self.attached:
            self.context.addSparkListener(self.listener)
        elif not on and self.attached:
            self.context.removeSparkListener(self.listener)
        self.attached = on

    def drain_s(self) -> float:
        """Seconds until the listener bus has handled every event posted so far."""
        started = time.monotonic()
        self.context.listenerBus().waitUntilEmpty(DRAIN_TIMEOUT_MS)
        return time.monotonic() - started


class DriverCpu:
    """CPU seconds of this driver: its JVM (spark-submit's process, this Python's parent) and every
    process under it. Steadier than wall time on a machine others share: a busy neighbour delays a
    batch but does not make it do more work."""

    def __init__(self):
        import psutil

        self.jvm = psutil.Process(os.getppid())
        if "java" not in self.jvm.name():
            raise RuntimeError(f"expected the driver's JVM as the parent process, found {self.jvm.name()}")

    def seconds(self) -> float:
        import psutil

        total = 0.0
        for process in [self.jvm, *self.jvm.children(recursive=True)]:
            try:
                times = process.cpu_times()
            except psutil.Error:  # a worker that just ended
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total


def lines(path: str) -> int:
    """Events in the lineage file so far (one JSON event a line)."""
    with open(path) as events:
        return sum(1 for line in events if line.strip())


def run_block(spark, cfg, options) -> list[float]:
    """One silver run to completion; the durations (ms, the whole trigger) of the batches that read rows."""
    from lakehouse.streaming.silver import start_silver

    run = start_silver(spark, cfg, options)
    run.wait(until_all_done=True)
    return [float(p["durationMs"]["triggerExecution"]) for p in run.queries[0].recentProgress if p["numInputRows"] > 0]


def measure(spark, cfg, rows: int, batches: int, rounds: int, warmup: int) -> dict:
    from lakehouse.schemas import CONTRACTS
    from lakehouse.streaming.options import SilverOptions, Trigger
    from lakehouse.streaming.tables import bronze_table

    contract = CONTRACTS["transaction_events"]
    options = SilverOptions((contract,), Trigger("available-now", ""), max_files_per_trigger=1)
    configs = {"on": cfg, "off": dataclasses.replace(
        cfg, metrics=dataclasses.replace(cfg.metrics, enabled=False),
        lineage=dataclasses.replace(cfg.lineage, enabled=False)),
        "every": dataclasses.replace(cfg, lineage=dataclasses.replace(cfg.lineage, batch_report_interval_s=0.0))}
    listener = LineageListener(spark)
    cpu = DriverCpu()
    bronze = bronze_table(cfg, contract).path
    sides = {side: {"batch_ms": [], "drain_s": [], "wall_s": [], "cpu_s": [], "lineage_events": 0,
                         "blocks": 0} for side in SIDES}
    files = 0
    # Warm-up with everything on (JIT, first MERGEs), then off/on/every, on/every/off, ...: each side
    # as often first after `rounds` multiple of 3.
    plan = [("on", warmup, False)] if warmup else []
    for number in range(rounds):
        order = SIDES[number % len(SIDES):] + SIDES[:number % len(SIDES)]
        plan += [(side, batches, True) for side in order]
    for side, count, timed in plan:
        append_bronze(spark, bronze, files, count, rows)
        files += count
        listener.drain_s()
        listener.attach(side != "off")
        started, cpu_before, events_before = time.monotonic(), cpu.seconds(), lines(cfg.lineage.file)
        durations = run_block(spark, configs[side], options)
        drain = listener.drain_s()
        wall, cpu_s, events = (time.monotonic() - started, cpu.seconds() - cpu_before,
                               lines(cfg.lineage.file) - events_before)
        if len(durations) != count:
            raise RuntimeError(f"{side}: {len(durations)} micro-batches read rows, expected {count}")
        if timed:
            sides[side]["batch_ms"] += durations
            sides[side]["drain_s"].append(drain)
            sides[side]["wall_s"].append(wall)
            sides[side]["cpu_s"].append(cpu_s)
            sides[side]["lineage_events"] += events
            sides[side]["blocks"] += 1
        _log(f"{side}{'' if timed else ' (warm-up)'}: {count} batches, "
             f"{', '.join(f'{d:.0f}' for d in durations)} ms; listener bus drained in {drain:.2f} s; "
             f"{wall:.1f} s from the run's start, {cpu_s:.1f} s CPU; {events} lineage events")
    listener.attach(True)
    return {"rows": rows, "batches_per_block": batches, "rounds": rounds, "warmup_batches": warmup, **sides}


def metric_names(cfg) -> list[str]:
    """The metrics CloudWatch holds in the job's namespace: proof the on side sent them."""
    from lakehouse.ops.metrics import cloudwatch_client

    listed = cloudwatch_client(cfg).list_metrics(Namespace=cfg.metrics.namespace)["Metrics"]
    return sorted({metric["MetricName"] for metric in listed})


def _log(message: str) -> None:
    print(f"overhead_job: {message}", file=sys.stderr, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, required=True, help="records per micro-batch")
    parser.add_argument("--batches", type=int, required=True, help="micro-batches per block")
    parser.add_argument("--rounds", type=int, required=True, help="rounds of blocks (off, on, every)")
    parser.add_argument("--warmup", type=int, default=0, help="untimed micro-batches first, everything on")
    parser.add_argument("--out", required=True)


def main(argv=None) -> int:
    from lakehouse.runtime.entrypoint import configure_logging, parse_config
    from lakehouse.spark.session import build_spark, stop_spark

    configure_logging()
    cfg, args = parse_config("S9 metrics and lineage overhead", argv, add_arguments)
    spark = build_spark(cfg, "bench-overhead")
    try:
        results = measure(spark, cfg, args.rows, args.batches, args.rounds, args.warmup)
    finally:
        stop_spark(spark)
    results["metrics_sent"] = metric_names(cfg)
    with open(args.out, "w") as out:
        json.dump(results, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
