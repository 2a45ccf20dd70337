"""Reads what a Structured Streaming checkpoint records: its query id and the Kafka offsets it needs.

Spark's layout (3.5): `metadata` holds {"id": <query id>}, created with the checkpoint and kept
for its life; `offsets/<n>` holds the planned end offsets of batch n (line 3 for the only source);
`commits/<n>` marks batch n done; `sources/0/0` holds the offsets a new query started from.
The jobs keep a few files of their own beside Spark's (names starting with `lakehouse_`), so they
travel with the checkpoint when it is copied, restored or moved aside.
Files are read through Hadoop's FileSystem, so local, s3a:// and s3:// (EMRFS) paths all work.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Optional

from lakehouse.spark.hadoop_fs import filesystem

log = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    """A checkpoint's files are not what Spark writes."""


def read_text(spark, path: str) -> Optional[str]:
    """The file's text, or None when it does not exist."""
    fs, hpath = filesystem(spark, path)
    if not fs.exists(hpath):
        return None
    stream = fs.open(hpath)
    try:
        return spark._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def write_text(spark, path: str, text: str) -> None:
    """Writes (or replaces) a small file, creating its folder."""
    fs, hpath = filesystem(spark, path)
    stream = fs.create(hpath, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def move_aside(spark, checkpoint: str, reason: str) -> str:
    """Renames the checkpoint to `<checkpoint>.<reason>-<UTC time>` and returns the new path, so the
    next query starts a new checkpoint while the old one stays for inspection."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = f"{checkpoint.rstrip('/')}.{reason}-{stamp}"
    fs, hpath = filesystem(spark, checkpoint)
    if not fs.rename(hpath, spark._jvm.org.apache.hadoop.fs.Path(target)):
        raise CheckpointError(f"could not move checkpoint {checkpoint} aside to {target}")
    log.warning("moved checkpoint %s aside to %s (%s)", checkpoint, target, reason)
    return target


def batch_ids(spark, folder: str) -> list[int]:
    """Batch ids with a file in `folder` (offsets/ or commits/), ascending."""
    fs, hpath = filesystem(spark, folder)
    if not fs.exists(hpath):
        return []
    names = [status.getPath().getName() for status in fs.listStatus(hpath)]
    return sorted(int(name) for name in names if name.isdigit())


def query_id(spark, checkpoint: str) -> Optional[str]:
    """The id of the query that owns the checkpoint; a new checkpoint gets a new id."""
    text = read_text(spark, f"{checkpoint}/metadata")
    if text is None:
        return None
    try:
        return json.loads(text)["id"]
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"{checkpoint}/metadata is not a Spark checkpoint's metadata: {text[:200]!r}") from exc


def next_kafka_offsets(spark, checkpoint: str, topic: str) -> Optional[dict[int, int]]:
    """The offset per partition the query reads next: the end of its last committed batch, or
    the offsets it started from if no batch committed yet. None for a new checkpoint.

    A batch planned but not committed is re-run from the same start after a restart, so its
    planned offsets are not yet safe to count as read.
    """
    committed = batch_ids(spark, f"{checkpoint}/commits")
    if committed:
        path = f"{checkpoint}/offsets/{committed[-1]}"
        lines = (read_text(spark, path) or "").splitlines()
        if len(lines) < 3:
            raise CheckpointError(f"{path}: expected a version, batch metadata and a source offset line")
        return _topic_offsets(lines[2], topic, path)
    path = f"{checkpoint}/sources/0/0"
    text = read_text(spark, path)
    if text is None:
        return None
    json_lines = [line for line in text.replace("\x00", "").splitlines() if line.startswith("{")]
    if not json_lines:
        raise CheckpointError(f"{path}: no initial offsets found in {text[:200]!r}")
    return _topic_offsets(json_lines[0], topic, path)


def _topic_offsets(line: str, topic: str, path: str) -> dict[int, int]:
    try:
        offsets = json.loads(line)
    except ValueError as exc:
        raise CheckpointError(f"{path}: not a Kafka offsets line: {line[:200]!r}") from exc
    if topic not in offsets:
        raise CheckpointError(f"{path}: the checkpoint reads {', '.join(sorted(offsets))}, not topic {topic}")
    return {int(partition): int(offset) for partition, offset in offsets[topic].items()}
