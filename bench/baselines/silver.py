"""B2's silver step: bronze rows -> orjson -> pyarrow -> deltalake MERGE on event_id (the dedup).

What a team would write next to B1 for silver.user_events: read the bronze table B1 wrote in
chunks, parse each value with orjson, keep records with every required field (a lighter check
than our contract parsing), drop repeats within the chunk, and MERGE insert-only on event_id,
restricted to the chunk's event dates so deltalake reads only those partitions of the target.

    python -m bench.baselines.silver --bronze PATH --silver PATH --chunk 1000000 --report F
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time

import orjson

TEXT_FIELDS = ("event_id", "user_id", "session_id", "event_type", "page_url", "referrer", "device_type",
               "country_code", "schema_version")
REQUIRED = ("event_id", "user_id", "event_type", "event_timestamp", "schema_version")
COMMIT_ATTEMPTS = 10


def silver_schema():
    """silver.user_events (the agreed contract) in Arrow types."""
    import pyarrow as pa

    utc = pa.timestamp("us", tz="UTC")
    text = [(name, pa.string()) for name in TEXT_FIELDS]
    return pa.schema([
        *text[:4], ("event_timestamp", utc), ("event_date", pa.date32()), *text[4:8],
        ("event_properties", pa.string()), text[8], ("kafka_partition", pa.int32()), ("kafka_offset", pa.int64()),
        ("processed_at", utc),
    ])


def parse_batch(batch, seen: set):
    """Bronze record batch -> silver rows (a pyarrow Table) and how many records were refused."""
    import pyarrow as pa

    columns: dict[str, list] = {name: [] for name in (*TEXT_FIELDS, "event_timestamp", "event_properties",
                                                      "kafka_partition", "kafka_offset")}
    refused = 0
    partitions = batch.column("kafka_partition").to_pylist()
    offsets = batch.column("kafka_offset").to_pylist()
    for index, value in enumerate(batch.column("value").to_pylist()):
        try:
            event = orjson.loads(value)
        except (orjson.JSONDecodeError, TypeError):
            refused += 1
            continue
        if not isinstance(event, dict) or any(event.get(name) is None for name in REQUIRED):
            refused += 1
            continue
        if event["event_id"] in seen:
            continue
        seen.add(event["event_id"])
        for name in TEXT_FIELDS:
            columns[name].append(event.get(name))
        columns["event_timestamp"].append(event["event_timestamp"])
        properties = event.get("event_properties")
        columns["event_properties"].append(None if properties is None else orjson.dumps(properties).decode())
        columns["kafka_partition"].append(partitions[index])
        columns["kafka_offset"].append(offsets[index])
    schema = silver_schema()
    timestamps = pa.array(columns.pop("event_timestamp"), pa.string()).cast(schema.field("event_timestamp").type)
    rows = {name: pa.array(values, schema.field(name).type) for name, values in columns.items()}
    rows["event_timestamp"] = timestamps
    rows["event_date"] = timestamps.cast(pa.date32())
    rows["processed_at"] = pa.array([dt.datetime.now(dt.timezone.utc)] * len(timestamps), schema.field(-1).type)
    return pa.table(rows).select(schema.names).cast(schema), refused


def merge_chunk(path: str, rows) -> int:
    """Inserts the chunk's new event ids; returns the retries it took."""
    import pyarrow.compute as pc
    from deltalake import DeltaTable
    from deltalake.exceptions import CommitFailedError

    dates = ", ".join(f"'{d}'" for d in pc.unique(rows.column("event_date")).to_pylist())
    predicate = f"t.event_id = s.event_id AND t.event_date IN ({dates})"
    for attempt in range(COMMIT_ATTEMPTS):
        try:
            (DeltaTable(path).merge(rows, predicate, source_alias="s", target_alias="t")
             .when_not_matched_insert_all().execute())
            return attempt
        except CommitFailedError:
            time.sleep(0.1 * 2**attempt)
    raise RuntimeError(f"MERGE into {path} still failing after {COMMIT_ATTEMPTS} attempts")


def bronze_to_silver(bronze: str, silver: str, chunk_rows: int) -> dict:
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    write_deltalake(silver, silver_schema().empty_table(), mode="error", partition_by=["event_date"])
    dataset = DeltaTable(bronze).to_pyarrow_dataset()
    report = {"rows_in": 0, "refused": 0, "merges": 0, "retries": 0}
    parts: list = []
    seen: set = set()

    def flush() -> None:
        if parts:
            report["retries"] += merge_chunk(silver, pa.concat_tables(parts))
            report["merges"] += 1
            parts.clear()
            seen.clear()

    buffered = 0
    for batch in dataset.to_batches(columns=["kafka_partition", "kafka_offset", "value"], batch_size=65_536):
        rows, refused = parse_batch(batch, seen)
        report["rows_in"] += batch.num_rows
        report["refused"] += refused
        parts.append(rows)
        buffered += batch.num_rows
        if buffered >= chunk_rows:
            flush()
            buffered = 0
    flush()
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="B2 silver step")
    parser.add_argument("--bronze", required=True)
    parser.add_argument("--silver", required=True)
    parser.add_argument("--chunk", type=int, required=True, help="bronze rows per MERGE")
    parser.add_argument("--report", required=True)
    args = parser.parse_args(argv)
    report = bronze_to_silver(args.bronze, args.silver, args.chunk)
    with open(args.report, "w") as out:
        json.dump(report, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
