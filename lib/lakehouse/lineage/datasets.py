"""Dataset names, as OpenLineage's Spark listener gives them, so every emitter names a table alike.

- a lake path: `file` + the absolute path locally; `s3://<bucket>` + the key under it on S3;
- a Kafka topic: `kafka://<first bootstrap server>` + the topic.
"""
from __future__ import annotations

import os
from typing import NamedTuple
from urllib.parse import urlparse


class DatasetName(NamedTuple):
    namespace: str
    name: str


def lake_dataset(path: str) -> DatasetName:
    """The dataset of a Delta table at `path` (a local folder, s3://, s3a:// or s3n://)."""
    parsed = urlparse(path)
    if parsed.scheme in ("s3", "s3a", "s3n"):
        return DatasetName(f"s3://{parsed.netloc}", parsed.path.strip("/"))
    if parsed.scheme not in ("", "file"):
        return DatasetName(f"{parsed.scheme}://{parsed.netloc}", parsed.path.rstrip("/"))
    local = parsed.path if parsed.scheme == "file" else path
    return DatasetName("file", os.path.abspath(local).rstrip("/"))


def kafka_dataset(bootstrap_servers: str, topic: str) -> DatasetName:
    """The dataset of a Kafka topic, namespaced by the first bootstrap server, as the listener does."""
    first = bootstrap_servers.split(",")[0].strip()
    return DatasetName(f"kafka://{first}", topic)
