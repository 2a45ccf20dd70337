"""The per-batch cost of OpenLineage's Spark listener: the same small silver batches with and without it.

    .venv/bin/python bench/lineage_overhead.py [--batches 8] [--rows 500] [--rounds 2]

Each side runs in a process of its own (the listener is fixed when the SparkContext starts), in
alternating rounds: a small bronze Delta table of transaction records, then the silver foreachBatch
handler (parse, MERGE into silver, quarantine, fraud review) called on it `--batches` times, after
two warm-up batches. Prints the median batch time of each side and the listener's share, and the time
the listener still needed after the last batch (its work is asynchronous, on Spark's listener bus).
Not part of `make bench`: a few minutes at most, on the local config, without Kafka.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.pop(0)   # bench/profile.py must not shadow the standard library's (see bench/run.py)
sys.path.insert(0, str(ROOT))
WARM_UP = 2


def transaction(number: int, at: str) -> bytes:
    record = {"transaction_id": f"tx-{number}", "user_id": str(number % 50), "amount": "12.50", "currency": "EUR",
              "status": "pending", "payment_method": "card", "merchant_category": "games",
              "transaction_timestamp": at, "created_at": at, "updated_at": at, "schema_version": "1.0"}
    return json.dumps(record).encode()


def measure(lineage: bool, batches: int, rows: int) -> dict:
    """One side: batch times in seconds, and how long the listener bus took to drain afterwards."""
    from lakehouse.config import load_config
    from lakehouse.schemas import CONTRACTS
    from lakehouse.schemas.lake import BRONZE
    from lakehouse.sinks.delta import ensure_table
    from lakehouse.spark import build_spark
    from lakehouse.streaming.reference import ensure_fx_rates
    from lakehouse.streaming.silver import silver_plan
    from lakehouse.streaming.silver_batch import handle_silver_batch
    from lakehouse.transforms.parsing import parse_records

    contract = CONTRACTS["transaction_events"]
    with tempfile.TemporaryDirectory(prefix="lineage-bench-") as folder:
        cfg = load_config("local", ROOT / "conf", [
            f"lake.root={folder}/lake", f"lake.checkpoint_root={folder}/checkpoints", "spark.shuffle_partitions=2",
            f"lineage.enabled={str(lineage).lower()}", f"lineage.file={folder}/events.jsonl"])
        spark = build_spark(cfg, "lineage_overhead")
        now = dt.datetime.now(dt.timezone.utc)
        bronze = [("t", 0, offset, now, 0, b"k", transaction(offset, now.isoformat()), [], now, now.date())
                  for offset in range(rows)]
        bronze_path = f"{folder}/lake/bronze/transaction_events"
        spark.createDataFrame(bronze, BRONZE).write.format("delta").save(bronze_path)
        plan = silver_plan(cfg, contract, ensure_fx_rates(spark, cfg))
        for spec in (plan.silver, plan.quarantine, plan.review):
            ensure_table(spark, spec)
        Path(plan.checkpoint).mkdir(parents=True)
        (Path(plan.checkpoint) / "metadata").write_text(json.dumps({"id": "lineage-bench"}))
        batch = spark.read.format("delta").load(bronze_path).transform(parse_records(contract, 1_000_000))
        seconds = []
        for batch_id in range(WARM_UP + batches):
            started = time.perf_counter()
            handle_silver_batch(batch, batch_id, plan)
            seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty(600_000)
        drain = time.perf_counter() - started
        spark.stop()
        return {"batch_s": seconds[WARM_UP:], "drain_s": drain}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2, help="processes per side, alternating")
    parser.add_argument("--side", choices=("on", "off"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        print(json.dumps(measure(args.side == "on", args.batches, args.rows)))
        return 0
    sides: dict[str, dict] = {"off": {"batch_s": [], "drain_s": []}, "on": {"batch_s": [], "drain_s": []}}
    for _ in range(args.rounds):
        for side in ("off", "on"):
            out = subprocess.run([sys.executable, __file__, "--side", side, "--batches", str(args.batches),
                                  "--rows", str(args.rows)], capture_output=True, text=True, check=True, cwd=ROOT)
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            sides[side]["batch_s"] += figures["batch_s"]
            sides[side]["drain_s"].append(figures["drain_s"])
    off, on = (statistics.median(sides[side]["batch_s"]) for side in ("off", "on"))
    print(f"silver batch of {args.rows} records, {args.rounds} x {args.batches} batches per side")
    print(f"  without the listener: median {off * 1000:.0f} ms")
    print(f"  with the listener:    median {on * 1000:.0f} ms  ({(on - off) / off:+.1%}; goal under +5%)")
    print(f"  listener bus drained after the last batch in {max(sides['on']['drain_s']):.1f} s "
          f"(without: {max(sides['off']['drain_s']):.1f} s)")
    print(json.dumps(sides))
    return 0


if __name__ == "__main__":
    sys.exit(main())
