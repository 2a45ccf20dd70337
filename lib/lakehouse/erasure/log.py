"""The erasure log, Delta table `ops.erasure_log`: one row per run and table.

It records who asked (`requested_by`), the request id the requester's ticket holds, when, which
table, the rows removed and the rows that could not be attributed, and when the deleted files
become unrecoverable. It never records the erased values nor the user ids, not even hashed: an
id is a small integer, so an unsalted hash is reversed by trying them all, and a salted one needs
a secret the lake would then have to keep. The ticket maps the request id to the person.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from typing import Optional

TABLE = ("ops", "erasure_log")


@dataclass(frozen=True)
class ErasureLogRow:
    request_id: str
    run_id: str
    requested_by: str
    erased_at: dt.datetime
    erased_date: dt.date
    people: int                       # how many ids the request named
    table_name: str
    rows_removed: int
    rows_unattributed: int
    table_version: Optional[int]      # null: the table does not exist (yet)
    retention: Optional[str]          # the table's delta.deletedFileRetentionDuration
    unrecoverable_after: Optional[dt.datetime]


def spark_schema():
    from pyspark.sql.types import DateType, IntegerType, LongType, StringType, StructField, StructType, TimestampType

    kinds = {"erased_at": TimestampType(), "erased_date": DateType(), "people": IntegerType(),
             "rows_removed": LongType(), "rows_unattributed": LongType(), "table_version": LongType(),
             "unrecoverable_after": TimestampType()}
    return StructType([StructField(name, kinds.get(name, StringType())) for name in ErasureLogRow.__annotations__])


def append(spark, path: str, rows: Sequence[ErasureLogRow]) -> None:
    """Appends one run's rows in one commit (a blind append: it never conflicts)."""
    from lakehouse.spark.driver_rows import driver_rows

    (driver_rows(spark, [astuple(row) for row in rows], spark_schema())
     .write.format("delta").mode("append").partitionBy("erased_date").save(path))
