"""An append committed once per transaction id, without building the table's state to check it.

Delta's own append with `txnAppId`/`txnVersion` asks its snapshot for the app id's last version, which
Delta reads only from the table's state: Spark jobs over the checkpoint and the commits after it. In a
new driver, on a table of 120 small appends, Delta's own append of one row took 5.3-6.5 s, this one
1.4-1.5 s (README, "Restarts, phase by phase"). The append here is Delta's own transaction, run the
same way: the app id recorded as read (a concurrent commit of it is a conflict), the rows written by
the transaction and committed with the `SetTransaction` action; only the last version is looked up in
the table's checksum files (lakehouse.sinks.checksum), or in its state when they do not list it. A
table not created yet, or whose columns differ from the rows', is left to Delta's own append (it
creates the table, or refuses the rows). A streaming query's batch is committed as Delta's streaming
sink commits it (lakehouse.streaming.bronze_sink), and may leave the log checkpoint Delta writes with
some commits to a thread of its own (lakehouse.streaming.log_checkpoints).
"""
from __future__ import annotations

import json
import time
from typing import Optional

from pyspark.errors.exceptions.captured import capture_sql_exception
from pyspark.sql import DataFrame

from lakehouse.sinks.checksum import listed_transactions


def append_once(spark, path: str, frame: DataFrame, app_id: str, version: int, stream_batch: bool = False,
                checkpoint: bool = True) -> Optional[int]:
    """Appends `frame` to the Delta table at `path` in one commit that records (`app_id`, `version`);
    nothing when the table holds that version of `app_id` or a later one. Returns the table version it
    committed (None when it committed nothing, or left the append to Delta's). A lost commit conflict
    raises Delta's exception, as its own append does (lakehouse.sinks.retry runs it again).

    `stream_batch`: commit it as Delta's streaming sink commits batch `version` of the query whose id is
    `app_id` (a STREAMING UPDATE in append mode), not as a DataFrame's append (a WRITE).
    `checkpoint=False`: the commit does not write the log checkpoint Delta writes with every version that
    is a multiple of the table's checkpoint interval; the caller has it written (log_checkpoints)."""
    import delta.exceptions  # noqa: F401  (maps Delta's JVM exceptions to its Python ones)

    return capture_sql_exception(_append_once)(spark, path, frame, app_id, version, stream_batch, checkpoint)


def _append_once(spark, path: str, frame: DataFrame, app_id: str, version: int, stream_batch: bool,
                 checkpoint: bool) -> Optional[int]:
    jvm = spark.sparkContext._jvm
    txn = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path).startTransaction()
    if txn.readVersion() < 0 or not _same_columns(txn.snapshot(), frame):
        (frame.write.format("delta").mode("append").option("txnAppId", app_id).option("txnVersion", version)
         .save(path))
        return None
    listed = listed_transactions(spark, path, txn.snapshot())
    if listed is None:
        last = int(txn.txnVersion(app_id))  # from the state, as Delta's own append
    else:
        getattr(txn.readTxn(), "$plus$eq")(app_id)
        last = listed.get(app_id, -1)
    if last >= version:
        return None
    converters = jvm.scala.collection.JavaConverters
    actions = jvm.java.util.ArrayList(converters.seqAsJavaList(txn.writeFiles(frame._jdf)))
    now = jvm.scala.Option.apply(jvm.java.lang.Long.valueOf(int(time.time() * 1000)))
    actions.add(jvm.org.apache.spark.sql.delta.actions.SetTransaction(app_id, version, now))
    if not checkpoint:
        _leave_out_checkpoint(jvm, txn)
    return int(txn.commit(converters.asScalaBuffer(actions).toSeq(), _operation(jvm, app_id, version, stream_batch)))


def _leave_out_checkpoint(jvm, txn) -> None:
    """Removes Delta's post-commit checkpoint hook from the transaction (its other hooks stay: the
    checksum file is still written)."""
    hook = getattr(getattr(jvm.org.apache.spark.sql.delta.hooks, "CheckpointHook$"), "MODULE$")
    getattr(txn.postCommitHooks(), "$minus$eq")(hook)


def _operation(jvm, app_id: str, version: int, stream_batch: bool):
    """The commit's operation, as Delta's streaming sink or its DataFrame append records it."""
    operations, none = jvm.org.apache.spark.sql.delta, jvm.scala.Option.empty()
    if stream_batch:
        return getattr(operations, "DeltaOperations$StreamingUpdate")(
            jvm.org.apache.spark.sql.streaming.OutputMode.Append(), app_id, version, none)
    return getattr(operations, "DeltaOperations$Write")(jvm.org.apache.spark.sql.SaveMode.Append, none, none, none)


def _same_columns(snapshot, frame: DataFrame) -> bool:
    """Whether the table's columns are the rows' (names and types, in order)."""
    from pyspark.sql.types import StructType

    table = StructType.fromJson(json.loads(snapshot.metadata().schemaString()))
    return [(f.name, f.dataType) for f in table.fields] == [(f.name, f.dataType) for f in frame.schema.fields]
