"""The job a class-data sharing archive is recorded from (lakehouse.spark.cds): what the streaming and
batch jobs load in their first minutes, over a temporary lake, with no service running.

Records of every contract (one of them not JSON) are shaped as Spark's Kafka source delivers them and
streamed into bronze by the bronze job's transform and Delta's streaming sink; silver's job then runs
over them (parse, quarantine, dedup, FX, fraud review, MERGEs, quality results); the Kafka source and
the JDBC driver are resolved without connecting. Run by `build_archive` only:

    spark-submit --driver-java-options -XX:ArchiveClassesAtExit=A.jsa cds_training.py --env local \
        --set lake.root=TMP/lake --set lake.checkpoint_root=TMP/checkpoints
"""
from __future__ import annotations

import datetime as dt
import random
import sys

from pyspark.sql import functions as F

from lakehouse.generators import records
from lakehouse.runtime.entrypoint import run_job
from lakehouse.schemas import CONTRACTS
from lakehouse.sinks.delta import ensure_table
from lakehouse.streaming.options import SilverOptions, Trigger
from lakehouse.streaming.silver import start_silver
from lakehouse.streaming.tables import bronze_table
from lakehouse.transforms.bronze import with_bronze_columns

KAFKA_COLUMNS = "key binary, value binary, topic string, partition int, offset long, timestamp timestamp, " \
                "timestampType int, headers array<struct<key: string, value: binary>>"
ROWS = 20
AVAILABLE_NOW = Trigger("available-now", "")


def train(spark, cfg, args) -> None:
    at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    for contract in CONTRACTS.values():
        _stream_into_bronze(spark, cfg, contract, _kafka_rows(contract.name, at))
    start_silver(spark, cfg, SilverOptions(tuple(CONTRACTS.values()), AVAILABLE_NOW, 10)).wait(until_all_done=True)
    spark.readStream.format("kafka").option("kafka.bootstrap.servers", "127.0.0.1:9").option("subscribe", "t").load()
    spark.sparkContext._jvm.java.lang.Class.forName("org.postgresql.Driver")


def _kafka_rows(contract: str, at: dt.datetime) -> list[tuple]:
    rng = random.Random(contract)
    made = []
    for offset in range(ROWS):
        if contract == records.EVENTS:
            payload = records.user_event(rng, offset % 5, at, records.new_uuid(rng))
        elif contract == records.TRANSACTIONS:
            payload = records.transaction(rng, offset % 5, at, records.amount(rng, 0.2))
        else:
            payload = records.metric(rng, f"host-{offset % 5}", at)
        value = b"not json" if offset == 0 else records.encode(payload)
        made.append((str(offset % 5).encode(), value, contract, offset % 2, offset, at, 0, None))
    return made


def _stream_into_bronze(spark, cfg, contract, rows: list[tuple]) -> None:
    """The rows through the bronze job's transform and Delta's streaming sink (a Delta table stands for
    the topic)."""
    topic = cfg.lake.table_path("cds_training", contract.name)
    spark.createDataFrame(rows, KAFKA_COLUMNS).write.format("delta").save(topic)
    table = bronze_table(cfg, contract)
    ensure_table(spark, table)
    (spark.readStream.format("delta").load(topic)
     .transform(with_bronze_columns(F.current_timestamp(), "cds-training"))
     .writeStream.format("delta").outputMode("append").partitionBy(*table.partition_by)
     .option("checkpointLocation", f"{cfg.lake.checkpoint_root}/cds_training/{contract.name}")
     .trigger(availableNow=True).start(table.path).awaitTermination())


def main(argv=None) -> int:
    return run_job("cds_training", __doc__, argv, train)


if __name__ == "__main__":
    sys.exit(main())
