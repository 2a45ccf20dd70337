"""When an erasure becomes final: the deleted files stay readable by time travel until VACUUM
removes them, which it may only once they are older than the table's
`delta.deletedFileRetentionDuration` (Delta's default: one week)."""
from __future__ import annotations

import datetime as dt
import re

DEFAULT_RETENTION = "interval 1 week"
RETENTION_PROPERTY = "delta.deletedFileRetentionDuration"
_UNITS = {"week": 7 * 86400, "day": 86400, "hour": 3600, "minute": 60, "second": 1}
_PART = re.compile(r"(\d+)\s*(week|day|hour|minute|second)s?")


def retention_of(spark, path: str) -> str:
    """The table's deleted-file retention as Delta writes it, e.g. `interval 1 week`."""
    from delta.tables import DeltaTable

    properties = DeltaTable.forPath(spark, path).detail().select("properties").first().properties or {}
    return properties.get(RETENTION_PROPERTY, DEFAULT_RETENTION)


def parse_interval(text: str) -> dt.timedelta:
    """`interval 1 week`, `interval 7 days`, `interval 36 hours 30 minutes` -> a timedelta."""
    body = text.strip().lower()
    body = body[len("interval"):] if body.startswith("interval") else body
    parts = _PART.findall(body)
    if not parts or _PART.sub("", body).strip():
        raise ValueError(f"cannot read the retention {text!r} (expected e.g. 'interval 7 days')")
    return dt.timedelta(seconds=sum(int(count) * _UNITS[unit] for count, unit in parts))


def unrecoverable_after(erased_at: dt.datetime, retention: str) -> dt.datetime:
    """The earliest time a VACUUM with the table's own retention deletes the erased rows' files."""
    return erased_at + parse_interval(retention)
