"""Per-row freshness from the Delta log: commit time of the commit that added the row's file,
minus the row's Kafka timestamp (CreateTime, set by the producer when it sent the record).

Bronze rows carry their Kafka timestamp. Silver rows carry their Kafka coordinates, so their
timestamp comes from bronze by (partition, offset). Only files still live are read, so this
runs before anything rewrites files (OPTIMIZE); the insert-only silver MERGE never rewrites.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional
from urllib.parse import unquote

from bench.deltalog import DeltaLog


def rows_with_commit_time(table_path: str, columns: list[str]):
    """The live rows' `columns` plus `commit_ms`, the timestamp of the commit that added each row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    log = DeltaLog(table_path)
    parts = []
    for path, commit in log.added_by().items():
        table = pq.read_table(Path(table_path) / unquote(path), columns=columns)
        parts.append(table.append_column("commit_ms", pa.array([commit.timestamp_ms] * table.num_rows, pa.int64())))
    if not parts:
        return pa.table({**{c: pa.array([], pa.int64()) for c in columns}, "commit_ms": pa.array([], pa.int64())})
    return pa.concat_tables(parts)


def bronze_latencies(bronze_path: str):
    """Bronze rows: kafka_partition, kafka_offset, kafka_ms and latency_ms."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = rows_with_commit_time(bronze_path, ["kafka_partition", "kafka_offset", "kafka_timestamp"])
    kafka_ms = pc.divide(rows.column("kafka_timestamp").cast(pa.timestamp("us")).cast(pa.int64()), 1000)
    return pa.table({
        "kafka_partition": rows.column("kafka_partition").cast(pa.int32()),
        "kafka_offset": rows.column("kafka_offset"),
        "kafka_ms": kafka_ms,
        "latency_ms": pc.subtract(rows.column("commit_ms"), kafka_ms),
    })


def silver_latencies(silver_path: str, bronze):
    """Silver rows joined to their bronze row: kafka_ms and latency_ms (silver commit - Kafka timestamp)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = rows_with_commit_time(silver_path, ["kafka_partition", "kafka_offset"])
    rows = pa.table({"kafka_partition": rows.column("kafka_partition").cast(pa.int32()),
                     "kafka_offset": rows.column("kafka_offset"), "commit_ms": rows.column("commit_ms")})
    joined = rows.join(bronze.select(["kafka_partition", "kafka_offset", "kafka_ms"]),
                       keys=["kafka_partition", "kafka_offset"], join_type="inner")
    return pa.table({"kafka_ms": joined.column("kafka_ms"),
                     "latency_ms": pc.subtract(joined.column("commit_ms"), joined.column("kafka_ms"))})


def percentiles(latencies, start_ms: int, end_ms: int) -> dict:
    """p50, p99 and max latency (seconds) of the rows sent in [start_ms, end_ms), and their count."""
    import pyarrow.compute as pc

    sent = latencies.column("kafka_ms")
    inside = pc.and_(pc.greater_equal(sent, start_ms), pc.less(sent, end_ms))
    values = latencies.column("latency_ms").filter(inside)
    if len(values) == 0:
        return {"rows": 0, "p50_s": None, "p99_s": None, "max_s": None}
    p50, p99 = pc.quantile(values, q=[0.5, 0.99]).to_pylist()
    return {"rows": len(values), "p50_s": p50 / 1000, "p99_s": p99 / 1000, "max_s": pc.max(values).as_py() / 1000}


def p99_by_slice(latencies, start_ms: int, end_ms: int, slice_s: float) -> list[Optional[float]]:
    """p99 latency (seconds) of the rows sent in each consecutive `slice_s` seconds of [start_ms, end_ms),
    the last slice taking the remainder: how a phase's figure settles while the drivers warm up."""
    step = int(slice_s * 1000)
    count = max(1, round((end_ms - start_ms) / step))
    bounds = [start_ms + i * step for i in range(count)] + [end_ms]
    return [percentiles(latencies, start, end)["p99_s"] for start, end in zip(bounds, bounds[1:])]
