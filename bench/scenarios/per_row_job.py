"""S10's driver, run by spark-submit: the catch-up jobs' steady per-row cost, part by part.

Each part runs over the same rows (the first `--rows` records of S1's backlog, the same offsets in S1's
bronze table) one more piece of a micro-batch of S1's bronze or S2's silver, or the same piece another
way, and ends in Spark's `noop` sink or a Delta or Parquet write. Most parts are batch jobs; two run
the bronze query's work as one micro-batch of a stream (its own time: Spark's triggerExecution), with
Delta's streaming sink or with foreachBatch. All parts run in one driver; each runs `--repeats` times
and its best run is kept: a floor, with the JIT warm and nothing else running. (S2's later batches
split the rest of silver's work, dedup and MERGE among it, by the handler's own phases.)

    spark-submit ... bench/scenarios/per_row_job.py --env local --set lake.root=... \
        --set streaming.topics.user_events=T --bronze PATH --rows 1000000 --repeats 3 \
        --scratch DIR --out result.json
"""
from __future__ import annotations

import itertools
import json
import sys
import time
from typing import Callable, Optional

TOPIC_ID = "per-row-bench"
# Session settings of the writer variants, set for the part and unset after it.
NO_DICTIONARY = {"parquet.enable.dictionary": "false"}
UNCOMPRESSED = {"spark.sql.parquet.compression.codec": "uncompressed"}


def kafka_range(cfg, topic: str, rows: int) -> tuple[int, dict, dict]:
    """About `rows` records, the first ones of each partition: the records per partition, and the start
    and end offsets (partition -> offset)."""
    from lakehouse.kafka.offsets import topic_offsets

    ranges = topic_offsets(cfg, topic)
    per_partition = -(-rows // len(ranges))
    return (per_partition, {str(p): r.earliest for p, r in ranges.items()},
            {str(p): min(r.earliest + per_partition, r.latest) for p, r in ranges.items()})


def parts(spark, cfg, topic: str, bronze_path: str, rows: int, scratch: str) -> tuple[dict, dict]:
    """The rows each group's parts handle (bronze's counted as they are cached in memory), and
    part name -> (group, run): `run()` does the part's work once."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from lakehouse.schemas import CONTRACTS
    from lakehouse.streaming.kafka_source import kafka_source_options
    from lakehouse.streaming.metrics import observe_newest
    from lakehouse.transforms.bronze import with_bronze_columns
    from lakehouse.transforms.parsing import parse_records

    contract = CONTRACTS["user_events"]
    per_partition, start, end = kafka_range(cfg, topic, rows)
    kafka = (spark.read.format("kafka").options(**kafka_source_options(cfg, topic))
             .option("startingOffsets", json.dumps({topic: start}))
             .option("endingOffsets", json.dumps({topic: end})).load())
    bronze_rows = kafka.transform(with_bronze_columns(F.current_timestamp(), TOPIC_ID))
    in_memory = bronze_rows.persist(StorageLevel.MEMORY_ONLY)
    bronze = spark.read.format("delta").load(bronze_path).where(F.col("kafka_offset") < per_partition)
    parsed = bronze.transform(parse_records(contract, cfg.streaming.max_record_bytes))
    counts = {"bronze": in_memory.count(), "silver": bronze.count()}

    def noop(df) -> Callable[[], None]:
        return lambda: df.write.format("noop").mode("overwrite").save()

    def written(df, name: str, fmt: str = "delta", settings: Optional[dict] = None) -> Callable[[], None]:
        def run() -> None:
            for key, value in (settings or {}).items():
                spark.conf.set(key, value)
            try:
                df.write.format(fmt).mode("append").partitionBy("ingest_date").save(f"{scratch}/{name}")
            finally:
                for key in settings or {}:
                    spark.conf.unset(key)
        return run

    def streamed(name: str, sink: str) -> Callable[[], float]:
        """One micro-batch of as many records from the same start, as the bronze job's query runs it
        (bronze columns, its observed metric; Spark spreads the records over the partitions by their
        backlog, so a partition's share may differ by a few); `sink`: Delta's streaming sink (the job's)
        or foreachBatch appending with the batch's transaction id. Returns the micro-batch's own
        seconds (Spark's triggerExecution)."""
        runs = itertools.count()

        def run() -> float:
            number = next(runs)
            rows = (spark.readStream.format("kafka").options(**kafka_source_options(cfg, topic))
                    .option("startingOffsets", json.dumps({topic: start}))
                    .option("maxOffsetsPerTrigger", sum(end[p] - start[p] for p in end)).load()
                    .transform(with_bronze_columns(F.current_timestamp(), TOPIC_ID)).transform(observe_newest))
            writer = (rows.writeStream.trigger(processingTime="1 second")
                      .option("checkpointLocation", f"{scratch}/checkpoints/{name}-{number}"))
            table = f"{scratch}/{name}"
            if sink == "delta":
                query = writer.format("delta").outputMode("append").partitionBy("ingest_date").start(table)
            else:
                def append(batch, batch_id: int) -> None:
                    (batch.write.format("delta").mode("append").partitionBy("ingest_date")
                     .option("txnAppId", f"per-row-{number}").option("txnVersion", batch_id).save(table))
                query = writer.foreachBatch(append).start()
            try:
                return first_batch_seconds(query)
            finally:
                query.stop()
        return run

    return counts, {
        "Kafka source (rows discarded)": ("bronze", noop(kafka)),
        "Kafka source + bronze columns (rows discarded)": ("bronze", noop(bronze_rows)),
        "Kafka source + bronze columns -> Delta (a bronze batch's work)": ("bronze", written(bronze_rows, "kafka")),
        "Kafka source + bronze columns + observed metric -> Delta": (
            "bronze", written(bronze_rows.transform(observe_newest), "observed")),
        "the same as one stream micro-batch, Delta's streaming sink (the job's)": (
            "bronze", streamed("stream_sink", "delta")),
        "the same as one stream micro-batch, foreachBatch Delta append": (
            "bronze", streamed("stream_foreach", "foreach")),
        "bronze rows in memory (rows discarded)": ("bronze", noop(in_memory)),
        "bronze rows in memory -> Delta": ("bronze", written(in_memory, "delta")),
        "bronze rows in memory -> Delta, dictionary encoding off": (
            "bronze", written(in_memory, "no_dictionary", settings=NO_DICTIONARY)),
        "bronze rows in memory -> Delta, uncompressed": (
            "bronze", written(in_memory, "uncompressed", settings=UNCOMPRESSED)),
        "bronze rows in memory -> Parquet (no Delta)": ("bronze", written(in_memory, "parquet", fmt="parquet")),
        "bronze table read (rows discarded)": ("silver", noop(bronze)),
        "bronze table read + the contract's parse (rows discarded)": ("silver", noop(parsed)),
    }


def first_batch_seconds(query, timeout_s: float = 600.0) -> float:
    """The seconds of `query`'s first micro-batch with rows (Spark's triggerExecution), once it ended."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if query.exception() is not None:
            raise RuntimeError(f"stream failed: {query.exception()}")
        done = [p for p in query.recentProgress if p["numInputRows"] > 0]
        if done:
            return done[0]["durationMs"]["triggerExecution"] / 1000
        time.sleep(0.05)
    raise TimeoutError(f"no micro-batch with rows within {timeout_s:.0f}s")


def measure(spark, cfg, topic: str, bronze_path: str, rows: int, repeats: int, scratch: str) -> dict:
    """Per part: its group (bronze, silver), the rows it handles, each run's seconds and the best."""
    counts, chosen = parts(spark, cfg, topic, bronze_path, rows, scratch)
    results = {}
    for name, (group, run) in chosen.items():
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            measured = run()  # a stream's part returns its micro-batch's own time
            seconds.append(measured if measured is not None else time.perf_counter() - started)
        results[name] = {"group": group, "rows": counts[group], "seconds": seconds, "best_s": min(seconds)}
        _log(f"{name}: best {min(seconds):.2f}s of {', '.join(f'{s:.2f}' for s in seconds)}")
    return results


def _log(message: str) -> None:
    print(f"per_row_job: {message}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    from lakehouse.runtime.entrypoint import configure_logging, parse_config
    from lakehouse.spark import build_spark

    def add_arguments(parser) -> None:
        parser.add_argument("--bronze", required=True, help="S1's bronze table (the same records)")
        parser.add_argument("--rows", type=int, required=True, help="records per part (spread over the partitions)")
        parser.add_argument("--repeats", type=int, default=3, help="runs per part; the best is kept")
        parser.add_argument("--scratch", required=True, help="folder for the parts' writes")
        parser.add_argument("--out", required=True)

    configure_logging()
    cfg, args = parse_config("S10 steady per-row cost, part by part", argv, add_arguments)
    spark = build_spark(cfg, "bench-per-row")
    try:
        results = measure(spark, cfg, cfg.streaming.topics["user_events"], args.bronze, args.rows, args.repeats,
                          args.scratch)
    finally:
        spark.stop()
    with open(args.out, "w") as out:
        json.dump(results, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
