"""Bronze's micro-batch commit: what Delta's streaming sink commits, without building the table's state.

Delta's sink (`writeStream.format("delta")`) asks the table's state, every batch, for the last batch the
query committed: Spark jobs over the checkpoint and the commits after it, or a warm-up between batches
to have them built (lakehouse.streaming.warm). Each batch is committed here by lakehouse.sinks.append_once
instead, which reads that batch id from the table's checksum files: the same transaction and the same
log entries (a `STREAMING UPDATE` commit whose transaction id is the query's id and the batch id), so a
table and checkpoint written by Delta's sink go on unchanged, and a replayed batch is skipped the same
way. The write stays out of lineage, as Delta's sink's did: the query's own run reports it
(lakehouse.streaming.lineage). Given a LogCheckpointer, the commit leaves it the log checkpoint Delta
writes with every version that is a multiple of the table's interval (lakehouse.streaming.log_checkpoints).
"""
from __future__ import annotations

from typing import Optional

from lakehouse.lineage.skip import unreported
from lakehouse.sinks.append_once import append_once
from lakehouse.streaming.checkpoint import CheckpointError, query_id
from lakehouse.streaming.log_checkpoints import LogCheckpointer


def append_batch(batch_df, batch_id: int, path: str, checkpoint: str,
                 log_checkpoints: Optional[LogCheckpointer] = None) -> None:
    """The foreachBatch function of a bronze query (bind `path`, `checkpoint` and `log_checkpoints` with
    functools.partial)."""
    spark = batch_df.sparkSession
    owner = query_id(spark, checkpoint)
    if owner is None:
        raise CheckpointError(f"no query metadata in checkpoint {checkpoint}: is the query running on it?")
    with unreported(spark):
        version = append_once(spark, path, batch_df, owner, batch_id, stream_batch=True,
                              checkpoint=log_checkpoints is None)
    if version is not None and log_checkpoints is not None:
        log_checkpoints.committed(path, version)
