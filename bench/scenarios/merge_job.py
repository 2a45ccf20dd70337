"""S4's driver, run by spark-submit: the cost of one silver MERGE batch (lakehouse.sinks.delta.merge_into).

The target is silver.transactions (upserts: newest `updated_at` wins), partitioned by
transaction_date over `--days` days. A batch is 80% new transactions of the last two days and
20% newer versions of transactions of the last three days, as status updates arrive. Each
variant starts from the same target version (RESTORE) and merges the same batches:

- no_pruning: keys only; the MERGE joins against the whole target;
- partition_pruning: the production spec, the batch's transaction dates in the ON clause;
- pruning_deletion_vectors: the same on a table with deletion vectors (updates mark rows
  deleted instead of rewriting whole files).

    spark-submit ... bench/scenarios/merge_job.py --env local --set lake.root=... --targets 1000000 \
        --batches 10000,100000 --repeats 3 --days 90 --out result.json
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import statistics
import sys
import time

VARIANTS = ("no_pruning", "partition_pruning", "pruning_deletion_vectors")
NEW_SHARE = 0.8
RECENT_DAYS = 3
DELETION_VECTORS = "'delta.enableDeletionVectors'"
HISTORY_METRICS = ("numTargetRowsInserted", "numTargetRowsUpdated", "numTargetRowsCopied", "numTargetFilesAdded",
                   "numTargetFilesRemoved", "numTargetDeletionVectorsAdded")


def transactions(ids, days: int, anchor: dt.datetime):
    """silver.transactions rows for an `id` column: id % days is how many days before `anchor`."""
    from pyspark.sql import functions as F

    from lakehouse.schemas.transaction_events import SILVER_TRANSACTIONS

    ago = (F.col("id") % days).cast("int")
    at = F.lit(anchor) - F.make_interval(days=ago) - F.make_interval(secs=F.col("id") % 43_200)
    amount = (F.col("id") % 50_000) / 100
    columns = {
        "transaction_id": F.concat(F.lit("txn-"), F.substring(F.sha2(F.col("id").cast("string"), 256), 1, 16)),
        "user_id": (F.col("id") % 100_000 + 1).cast("string"),
        "amount": amount,
        "currency": F.lit("USD"),
        "amount_usd": amount,
        "status": F.lit("pending"),
        "payment_method": F.lit("card"),
        "merchant_category": F.lit("grocery"),
        "transaction_timestamp": at,
        "transaction_date": F.to_date(at),
        "created_at": at,
        "updated_at": at,
        "is_flagged": F.lit(False),
        "fraud_reasons": F.array(),
        "schema_version": F.lit("1.0"),
        "kafka_partition": F.col("id") % 4,
        "kafka_offset": F.col("id"),
        "processed_at": F.lit(anchor),
    }
    return ids.select(*(columns[f.name].cast(f.dataType).alias(f.name) for f in SILVER_TRANSACTIONS.fields))


def batch(spark, target_size: int, days: int, size: int, number: int, anchor: dt.datetime):
    """Batch `number` of `size` rows (the same for every variant), materialised before timing."""
    from pyspark.sql import functions as F

    new = int(size * NEW_SHARE)
    first_new = target_size + number * size
    fresh = transactions(spark.range(first_new, first_new + new), 2, anchor)
    recent = (target_size - RECENT_DAYS) // days   # ids k * days + k % 3 are 0..2 days old
    ks = spark.range(number * (size - new), (number + 1) * (size - new)).select((F.col("id") % recent).alias("k"))
    ids = ks.select((F.col("k") * days + F.col("k") % RECENT_DAYS).alias("id")).distinct()
    # A status update is newer than every version before it, earlier batches' included.
    newer = (transactions(ids, days, anchor).withColumn("status", F.lit("completed"))
             .withColumn("updated_at", F.current_timestamp()))
    return fresh.unionByName(newer).localCheckpoint(eager=True)


def run(spark, root: str, targets: list[int], sizes: list[int], repeats: int, days: int,
        warmup: bool) -> list[dict]:
    from delta.tables import DeltaTable

    from lakehouse.schemas.transaction_events import TRANSACTION_EVENTS
    from lakehouse.sinks.delta import TableSpec, ensure_table, merge_into

    production = TRANSACTION_EVENTS.merge
    specs = {"no_pruning": dataclasses.replace(production, prune_column=None),
             "partition_pruning": production, "pruning_deletion_vectors": production}
    anchor = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    results = []
    for target_size in targets:
        table = TableSpec(f"{root}/merge_target_{target_size}", TRANSACTION_EVENTS.silver_schema,
                          (TRANSACTION_EVENTS.silver_partition,))
        started = time.monotonic()
        ensure_table(spark, table)
        transactions(spark.range(target_size), days, anchor).write.format("delta").mode("append").save(table.path)
        target = DeltaTable.forPath(spark, table.path)
        built = int(target.history(1).select("version").first()[0])
        entry = {"rows": target_size, "build_s": time.monotonic() - started, "variants": {}}
        _log(f"target of {target_size:,} rows built in {entry['build_s']:.1f}s")
        for variant in VARIANTS:
            target.restoreToVersion(built)
            if variant == "pruning_deletion_vectors":
                spark.sql(f"ALTER TABLE delta.`{table.path}` SET TBLPROPERTIES ({DELETION_VECTORS} = 'true')")
            if warmup:
                merge_into(batch(spark, target_size, days, min(sizes), 10_000, anchor), table, specs[variant])
            figures = {}
            for size in sizes:
                timings, metrics = [], []
                for number in range(repeats):
                    rows = batch(spark, target_size, days, size, number, anchor)
                    started = time.monotonic()
                    merge_into(rows, table, specs[variant])
                    timings.append((time.monotonic() - started) * 1000)
                    history = target.history(1).select("operationMetrics").first()[0] or {}
                    metrics.append({k: int(history.get(k, 0)) for k in HISTORY_METRICS})
                figures[str(size)] = {"ms": timings, "median_ms": statistics.median(timings), "metrics": metrics}
                median = figures[str(size)]["median_ms"]
                _log(f"{target_size:,} rows, {variant}, batch {size:,}: median {median:,.0f} ms")
            entry["variants"][variant] = figures
        results.append(entry)
    return results


def _log(message: str) -> None:
    print(f"merge_job: {message}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    from lakehouse.runtime.entrypoint import configure_logging, parse_config
    from lakehouse.spark import build_spark

    def add_arguments(parser) -> None:
        parser.add_argument("--targets", required=True, help="target sizes, comma-separated")
        parser.add_argument("--batches", required=True, help="batch sizes, comma-separated")
        parser.add_argument("--repeats", type=int, default=3)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--no-warmup", action="store_true", help="no untimed batch before each variant")
        parser.add_argument("--out", required=True)

    configure_logging()
    cfg, args = parse_config("S4 MERGE cost", argv, add_arguments)
    spark = build_spark(cfg, "bench-merge")
    try:
        results = run(spark, cfg.lake.table_path("bench", "s4"), [int(t) for t in args.targets.split(",")],
                      [int(b) for b in args.batches.split(",")], args.repeats, args.days, not args.no_warmup)
    finally:
        spark.stop()
    with open(args.out, "w") as out:
        json.dump(results, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
