"""The floors' driver, run by spark-submit: the least Spark program that does one whole-run figure's work.

Each `--work` reads and writes what our job does for the figure, in a fresh driver started the way
our jobs start (spark-submit, the local config: its jars, class-data sharing archive and Spark
settings), with none of the job's own work: no contract, quarantine, cursor state or metrics, and no
checkpoint or offsets beyond the one Spark needs to run a stream. A figure of ours cannot beat its
floor, so a floor below its goal shows the goal is out of reach for any job on Spark here.

    bronze                Kafka topic (all of it, one batch job) -> Delta append, Kafka's columns as read
    silver                the bronze floor's table -> from_json, required fields, one row per event_id
                          -> Delta append
    stream-bronze         a stream with a processing-time trigger: Kafka -> Delta append, Kafka's columns
                          (the position and timestamp named as bronze names them), until stopped (SIGTERM)
    stream-silver         a stream on stream-bronze's table: silver's parse, one row per event_id within the
                          micro-batch -> Delta insert-only MERGE by event_id (so one row per id in all), until
                          stopped
    stream-pipeline       S7's two queries in one driver, each batch committed exactly once with the least work
                          we know: Kafka -> bronze (`--table`) as our bronze sink commits it (no table state),
                          and on it silver's parse, one row per event_id -> an insert-only MERGE into
                          `--merge-into` (a copy of silver's grown table) under the batch's transaction id,
                          the target narrowed to the batch's dates and ids; a batch the target already holds
                          (re-run after a kill) is skipped before it is read; until stopped
    extract-full          JDBC read of the table (ranges of the key, one per partition) -> Delta overwrite
    extract-incremental   the rows after a (cursor, key) position, read the same way -> Delta MERGE by key
    table-states          each table's state at its latest version (what a restarted job's first write to it
                          needs: the JVM's first Delta state reconstructions), in `--tables` order; then the
                          JVM's first append (10 rows into a new table in `--first-writes`) and first
                          insert-only MERGE: 10 rows of `--merge-into` (silver's user_events, grown) on
                          `--merge-date`, under new event ids, by event_id within that date's partition
    small-steps           in one warm driver, the cheapest form of each step a small transaction batch takes in
                          turn, each timed alone: a look-up of 10 keys the table holds over a time range, a 10-row
                          insert-only MERGE, the read of those keys back, a one-row append (writes with a
                          transaction id)

    spark-submit ... bench/scenarios/floor_job.py --env local --set ... --work bronze --topic T \
        --table PATH --out phases.json

`--out` gets when the script started and when its imports and config were done (epoch seconds), the
SparkSession's and the work's seconds (a stream's: until its query started), and the work's own figures
(table-states: each table's seconds and each first write's; small-steps: each step's). A stream's
`--phases-out` gets, as they happen, the events streaming_job.py writes (bench.stream_events): the process's
start, the SparkSession ready, the queries' start as a start-up record, and each micro-batch's progress.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time

STARTED_AT = time.time()


def bronze(spark, cfg, args) -> None:
    from lakehouse.streaming.kafka_source import kafka_source_options

    (spark.read.format("kafka").options(**kafka_source_options(cfg, args.topic))
     .option("startingOffsets", "earliest").option("endingOffsets", "latest").load()
     .write.format("delta").mode("append").save(args.table))


def silver(spark, cfg, args) -> None:
    events = _parsed(spark.read.format("delta").load(args.bronze), "partition", "offset")
    events.dropDuplicates(["event_id"]).write.format("delta").mode("append").save(args.table)


def stream_bronze(spark, cfg, args) -> dict:
    from pyspark.sql import functions as F

    from lakehouse.streaming.kafka_source import kafka_source_options

    records = (spark.readStream.format("kafka").options(**kafka_source_options(cfg, args.topic))
               .option("startingOffsets", "earliest").option("maxOffsetsPerTrigger", str(args.max_offsets)).load())
    columns = records.select("key", "value", "topic", F.col("partition").alias("kafka_partition"),
                             F.col("offset").alias("kafka_offset"), F.col("timestamp").alias("kafka_timestamp"),
                             "headers")
    writer = columns.writeStream.format("delta").queryName("bronze.floor")
    return {"query": _stream(writer, args, args.checkpoint).start(args.table)}


def stream_silver(spark, cfg, args) -> dict:
    from delta.tables import DeltaTable

    events = _parsed(spark.readStream.format("delta").load(args.bronze), "kafka_partition", "kafka_offset")
    DeltaTable.createIfNotExists(spark).location(args.table).addColumns(events.schema).execute()

    def insert_new(batch, batch_id: int) -> None:
        (DeltaTable.forPath(spark, args.table).alias("t")
         .merge(batch.dropDuplicates(["event_id"]).alias("s"), "t.event_id = s.event_id")
         .whenNotMatchedInsertAll().execute())

    writer = events.writeStream.foreachBatch(insert_new).queryName("silver.floor")
    return {"query": _stream(writer, args, args.checkpoint).start()}


def stream_pipeline(spark, cfg, args) -> dict:
    """Both queries of `--work stream-pipeline` (the module's docstring), on checkpoints under `--checkpoint`."""
    import functools

    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    from lakehouse.streaming.bronze_sink import append_batch
    from lakehouse.streaming.kafka_source import kafka_source_options

    bronze_checkpoint = f"{args.checkpoint}/bronze"
    records = (spark.readStream.format("kafka").options(**kafka_source_options(cfg, args.topic))
               .option("startingOffsets", "earliest").option("maxOffsetsPerTrigger", str(args.max_offsets)).load()
               .select("key", "value", "topic", F.col("partition").alias("kafka_partition"),
                       F.col("offset").alias("kafka_offset"), F.col("timestamp").alias("kafka_timestamp"),
                       "headers"))
    DeltaTable.createIfNotExists(spark).location(args.table).addColumns(records.schema).execute()
    target = spark.read.format("delta").load(args.merge_into).schema
    merge_new = functools.partial(_merge_new, path=args.merge_into, target=target)
    silver_writer = spark.readStream.format("delta").load(args.table).writeStream.foreachBatch(merge_new) \
        .queryName("silver.floor")
    bronze_writer = (records.writeStream.queryName("bronze.floor")
                     .foreachBatch(functools.partial(append_batch, path=args.table, checkpoint=bronze_checkpoint)))
    _stream(silver_writer, args, f"{args.checkpoint}/silver").start()
    return {"query": _stream(bronze_writer, args, bronze_checkpoint).start()}


def _merge_new(batch, batch_id: int, path: str, target) -> None:
    """Silver's least batch: skipped, unread, when the table holds its transaction id; else bronze's rows
    parsed into the target's columns, one per event_id, computed once, and MERGEd insert-only by event_id
    within the batch's dates and through a Bloom filter of its ids (lakehouse.sinks.key_filter), under the
    batch's transaction id; its steps timed as our handler's are (lakehouse.ops.phases)."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    from lakehouse.ops import phases
    from lakehouse.sinks.delta import MATERIALIZE_SOURCE, Txn, commit_options, last_txn_version
    from lakehouse.sinks.key_filter import MIN_TARGET_BYTES, source_keys_filter

    spark, txn = batch.sparkSession, Txn("floor-silver", batch_id)
    with phases.batch("silver.floor", batch_id):
        with phases.phase("txn_check"):
            last = last_txn_version(spark, path, txn.app_id)
        if last is not None and last >= batch_id:
            return
        events = (_parsed(batch, "kafka_partition", "kafka_offset").dropDuplicates(["event_id"])
                  .withColumn("processed_at", F.current_timestamp()))
        shaped = events.select(*[(F.col(field.name) if field.name in events.columns else F.lit(None))
                                 .cast(field.dataType).alias(field.name) for field in target.fields])
        with phases.phase("parse_dedup"):
            rows = shaped.localCheckpoint()
        with phases.phase("dates"):
            dates = rows.groupBy("event_date").count().collect()
        held = sum(row["count"] for row in dates)
        if not held:
            return
        with phases.phase("key_filter"):
            keys = source_keys_filter(rows, ["event_id"], target, MIN_TARGET_BYTES, held)
        condition = (F.col("t.event_date").isin([row["event_date"] for row in dates]) & keys
                     & (F.col("t.event_id") == F.col("s.event_id")))
        with phases.phase("merge"), commit_options(spark, txn, None, {MATERIALIZE_SOURCE: "none"}):
            (DeltaTable.forPath(spark, path).alias("t").merge(rows.alias("s"), condition).whenNotMatchedInsertAll()
             .execute())


def _stream(writer, args, checkpoint: str):
    return writer.option("checkpointLocation", checkpoint).trigger(processingTime=args.trigger)


def _parsed(bronze, partition: str, offset: str):
    """B2's fields from bronze's Kafka value, the required ones not null, with the record's Kafka position."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    from bench.baselines.silver import REQUIRED, TEXT_FIELDS  # B2's fields and checks

    fields = StructType([StructField(name, StringType()) for name in (*TEXT_FIELDS, "event_timestamp",
                                                                     "event_properties")])
    return (bronze.select(F.from_json(F.col("value").cast("string"), fields).alias("event"), partition, offset)
            .select("event.*", F.col(partition).alias("kafka_partition"), F.col(offset).alias("kafka_offset"))
            .where(" AND ".join(f"{name} IS NOT NULL" for name in REQUIRED))
            .withColumn("event_timestamp", F.to_timestamp("event_timestamp"))
            .withColumn("event_date", F.to_date("event_timestamp")))


def extract_full(spark, cfg, args) -> None:
    _jdbc(spark, cfg, args, f'"{args.schema}"."{args.source}"').write.format("delta").mode("overwrite").save(
        args.table)


def extract_incremental(spark, cfg, args) -> None:
    from delta.tables import DeltaTable

    cursor, key = args.cursor, args.key
    changed = (f'(SELECT * FROM "{args.schema}"."{args.source}" WHERE ("{cursor}", "{key}") > '  # noqa: S608
               f"('{args.after_cursor}'::timestamptz, {int(args.after_key)}) "
               f"AND \"{cursor}\" < now() - interval '{float(args.safety_delay_s)} seconds') AS changed")
    (DeltaTable.forPath(spark, args.table).alias("t")
     .merge(_jdbc(spark, cfg, args, changed).alias("s"), f"t.{key} = s.{key}")
     .whenMatchedUpdateAll(condition=f"s.{cursor} > t.{cursor}")
     .whenNotMatchedInsertAll()
     .execute())


def table_states(spark, cfg, args) -> dict:
    """Each table's state, in `--tables` order; then a restart's first commits in this JVM, each timed: a
    10-row append into a new table whose state is built first (bronze's), then an insert-only MERGE of 10
    rows into `--merge-into` (silver's, whose state `--tables` should build): its rows of `--merge-date` under
    new event ids, computed once, pruned to that partition as silver's MERGE prunes to its batch's dates. The
    target's rows are filtered by the 10 ids as they are read (as silver's key filter does by its batch's keys):
    a left anti join cannot broadcast its source, so without it the MERGE shuffles the whole partition."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    from lakehouse.sinks.delta import build_latest_state

    seconds = {}
    for path in args.tables.split(","):
        started = time.perf_counter()
        build_latest_state(spark, path)
        seconds[path] = time.perf_counter() - started
    first = {}
    rows, path = _keyed(spark, 10, "first-"), f"{args.first_writes}/append"
    DeltaTable.createIfNotExists(spark).location(path).addColumns(rows.schema).execute()
    build_latest_state(spark, path)
    started = time.perf_counter()
    rows.write.format("delta").mode("append").save(path)
    first["append"] = time.perf_counter() - started
    started = time.perf_counter()
    day = F.lit(args.merge_date)
    new_events = (spark.read.format("delta").load(args.merge_into).where(F.col("event_date") == day).limit(10)
                  .withColumn("event_id", F.concat(F.lit("floor-"), "event_id")).localCheckpoint())
    ids = [row.event_id for row in new_events.select("event_id").collect()]
    target = F.col("t.event_id")
    (DeltaTable.forPath(spark, args.merge_into).alias("t")
     .merge(new_events.alias("s"), (F.col("t.event_date") == day) & target.isin(ids) & (target == F.col("s.event_id")))
     .whenNotMatchedInsertAll().execute())
    first["merge"] = time.perf_counter() - started
    return {"table_seconds": seconds, "first_write_seconds": first}


def _keyed(spark, rows: int, prefix: str):
    """`rows` rows of a text key (`prefix` and a number) and the time."""
    from pyspark.sql import functions as F

    return spark.range(rows).select(F.concat(F.lit(prefix), F.col("id").cast("string")).alias("key"),
                                    F.current_timestamp().alias("written_at"))


def small_steps(spark, cfg, args) -> dict:
    """`--warmup` then `--rounds` rounds of a small transaction batch's steps, in the order its handler must
    take them, on tables of 1,000 rows: the look-up of 10 keys the table holds over a time range, a 10-row
    insert-only MERGE, the read of the merged keys back, and a one-row append. Each write carries a
    transaction id; each table's state is built before each step (as the jobs' SnapshotWarmer does
    between batches), outside the step's time."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    from lakehouse.sinks.delta import TXN_APP_ID, TXN_VERSION, build_latest_state

    def txn(table: str, number: int) -> None:
        spark.conf.set(TXN_APP_ID, f"floor-{table}")
        spark.conf.set(TXN_VERSION, str(number))

    def lookup(path: str, rows, number: int) -> None:  # the velocity look-up's shape: a time range, keys held, a count
        since = F.expr("current_timestamp() - INTERVAL 1 HOUR")
        (spark.read.format("delta").load(path).where(F.col("written_at") >= since)
         .join(users.select("key"), "key", "left_semi").groupBy("key").count().collect())

    def merge(path: str, rows, number: int) -> None:
        txn("merge", number)
        DeltaTable.forPath(spark, path).alias("t").merge(rows.alias("s"), "t.key = s.key").whenNotMatchedInsertAll() \
            .execute()

    def read_back(path: str, rows, number: int) -> None:  # review's read of what silver holds for the batch's keys
        spark.read.format("delta").load(path).join(rows.select("key"), "key", "left_semi").collect()

    def append(path: str, rows, number: int) -> None:
        txn("append", number)
        rows.limit(1).write.format("delta").mode("append").save(path)

    steps = {"lookup": ("merge", lookup), "merge": ("merge", merge), "read_back": ("merge", read_back),
             "append": ("append", append)}
    users = _keyed(spark, 10, "seed-")  # keys the tables hold, as the batch's users have history
    for table in ("merge", "append"):
        _keyed(spark, 1000, "seed-").write.format("delta").save(f"{args.table}/{table}")
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    for number in range(args.warmup + args.rounds):
        rows = _keyed(spark, 10, f"round-{number}-")
        for name, (table, step) in steps.items():
            path = f"{args.table}/{table}"
            build_latest_state(spark, path)
            started = time.perf_counter()
            step(path, rows, number)
            if number >= args.warmup:
                seconds[name].append(time.perf_counter() - started)
    return {"seconds": seconds}


def _jdbc(spark, cfg, args, dbtable: str):
    """`dbtable` through Spark's JDBC source, `--partitions` ranges of the key between its bounds."""
    from lakehouse.sources.postgres import connect

    with connect(cfg.postgres, "lakehouse-bench-floor") as conn:
        lower, upper = conn.execute(
            f'SELECT min("{args.key}"), max("{args.key}") FROM "{args.schema}"."{args.source}"').fetchone()  # noqa: S608
    return (spark.read.format("jdbc").options(**cfg.postgres.jdbc_options())
            .options(dbtable=dbtable, fetchsize=str(args.fetch_size), partitionColumn=args.key,
                     lowerBound=str(lower), upperBound=str(upper), numPartitions=str(args.partitions))
            .load())


WORKS = {"bronze": bronze, "silver": silver, "stream-bronze": stream_bronze, "stream-silver": stream_silver,
         "stream-pipeline": stream_pipeline,
         "extract-full": extract_full, "extract-incremental": extract_incremental, "table-states": table_states,
         "small-steps": small_steps}
EXTRACT_FLAGS = ("schema", "source", "key", "table")
NEEDS = {"bronze": ("topic", "table"), "silver": ("bronze", "table"),
         "stream-bronze": ("topic", "table", "checkpoint", "max_offsets", "phases_out"),
         "stream-silver": ("bronze", "table", "checkpoint", "phases_out"),
         "stream-pipeline": ("topic", "table", "merge_into", "checkpoint", "max_offsets", "phases_out"),
         "extract-full": EXTRACT_FLAGS,
         "extract-incremental": (*EXTRACT_FLAGS, "cursor", "after_cursor", "after_key"),
         "table-states": ("tables", "first_writes", "merge_into", "merge_date"),
         "small-steps": ("table",)}


def main(argv=None) -> int:
    from lakehouse.runtime.entrypoint import configure_logging, parse_config
    from lakehouse.spark import build_spark

    def add_arguments(parser) -> None:
        parser.add_argument("--work", required=True, choices=sorted(WORKS))
        parser.add_argument("--table", help="the Delta table written")
        parser.add_argument("--tables", help="table-states: the tables' paths, comma-separated")
        parser.add_argument("--first-writes", help="table-states: a folder for the first append's new table")
        parser.add_argument("--merge-into", help="table-states: silver's user_events table the first MERGE writes")
        parser.add_argument("--merge-date", type=dt.date.fromisoformat,
                            help="table-states: the event_date whose rows the first MERGE copies")
        parser.add_argument("--out", required=True, help="JSON: start, session and work seconds")
        parser.add_argument("--topic", help="bronze, stream-bronze: the topic read")
        parser.add_argument("--bronze", help="silver, stream-silver: the bronze floor's table")
        parser.add_argument("--checkpoint", help="stream-*: the query's checkpoint")
        parser.add_argument("--trigger", default="1 second", help="stream-*: the processing-time trigger")
        parser.add_argument("--max-offsets", type=int, help="stream-bronze: maxOffsetsPerTrigger")
        parser.add_argument("--phases-out", help="stream-*: JSON lines, each micro-batch's progress")
        parser.add_argument("--schema", help="extract: the Postgres schema")
        parser.add_argument("--source", help="extract: the Postgres table")
        parser.add_argument("--key", help="extract: the key (partitions, MERGE)")
        parser.add_argument("--cursor", help="extract-incremental: the cursor column")
        parser.add_argument("--after-cursor", help="extract-incremental: the cursor of the last row read")
        parser.add_argument("--after-key", help="extract-incremental: the key of the last row read")
        parser.add_argument("--safety-delay-s", type=float, default=0.0)
        parser.add_argument("--partitions", type=int, default=2)
        parser.add_argument("--fetch-size", type=int, default=50_000)
        parser.add_argument("--rounds", type=int, default=10, help="small-steps: measured rounds")
        parser.add_argument("--warmup", type=int, default=3, help="small-steps: rounds first, not measured")

    configure_logging()
    cfg, args = parse_config("The floor of one of the benchmark's figures", argv, add_arguments)
    missing = [f"--{name.replace('_', '-')}" for name in NEEDS[args.work] if getattr(args, name) is None]
    if missing:
        raise SystemExit(f"floor_job.py --work {args.work} needs {', '.join(missing)}")
    ready_at, started = time.time(), time.monotonic()
    events = None
    if args.phases_out:  # as streaming_job.py writes them, for bench.job_phases
        from bench.stream_events import Events, ProgressEvents

        events = Events(args.phases_out)
        events.write("process", started_at=STARTED_AT)
    spark = build_spark(cfg, f"bench-floor-{args.work}")
    session_s = time.monotonic() - started
    try:
        if events is not None:
            from lakehouse.ops import phases

            events.write("spark_ready")
            spark.streams.addListener(ProgressEvents(events))
            phases.install(lambda record: events.write("record", **record))
        figures = WORKS[args.work](spark, cfg, args) or {}
        work_s = time.monotonic() - started - session_s
        if events is not None:
            events.write("record", label="start", batch_id=-1, started_at=ready_at + session_s, total_s=work_s,
                         phases={"query_start": work_s})
        streaming = figures.pop("query", None) is not None
        with open(args.out, "w") as out:
            json.dump({"started_at": STARTED_AT, "ready_at": ready_at, "spark_start_s": session_s,
                       "work_s": work_s, **figures}, out)
        if streaming:  # streams run until the process is stopped (SIGTERM) or one of them fails
            spark.streams.awaitAnyTermination()
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
