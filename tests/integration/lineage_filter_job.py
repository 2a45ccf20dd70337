"""A PySpark driver for test_lineage_filter.py: Delta writes inside and after `unreported`.

    python -m tests.integration.lineage_filter_job <lineage events file> <folder for two tables>

Inside `unreported` it writes table `skipped`, reads it back (a localCheckpoint, in a nested block)
and appends to it; after the block it writes table `reported`. OpenLineage's listener reports every
Delta write it sees (its reads of small plans it may filter itself), so the writes tell what the
filter let through: nothing of `skipped`, and `reported` (the tag ends with the block).
"""
from __future__ import annotations

import sys

from lakehouse.config import load_config
from lakehouse.lineage.skip import unreported
from lakehouse.spark.session import build_spark, stop_spark
from tests.conftest import CONF_DIR


def main(events: str, folder: str) -> None:
    cfg = load_config("local", CONF_DIR, ["lineage.enabled=true", f"lineage.file={events}",
                                          "spark.shuffle_partitions=1"], environ={})
    spark = build_spark(cfg, "lineage-filter")
    try:
        with unreported(spark):
            spark.range(3).write.format("delta").save(f"{folder}/skipped")
            with unreported(spark):
                spark.read.format("delta").load(f"{folder}/skipped").localCheckpoint(eager=True)
            spark.range(3).write.format("delta").mode("append").save(f"{folder}/skipped")
        spark.range(3).write.format("delta").save(f"{folder}/reported")
    finally:
        stop_spark(spark)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
