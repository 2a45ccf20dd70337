"""Where a streaming query is inside its micro-batch, read from its files while it runs, and the windows
the crash test kills it in.

Spark writes `offsets/N` to the checkpoint when it plans batch N and `commits/N` once N is done. Each
Delta write of batch N carries the transaction id (app id, N) in the table's `_delta_log/<version>.json`,
its app id holding the query id of the checkpoint's `metadata` (bronze's Delta sink: the query id;
silver's MERGEs: lakehouse-silver-<query id>). So batch N runs while offsets/N has no commits/N, and the
tables whose log holds its transaction id are the writes it has committed. Plain file reads, cheap
enough to poll every few tens of milliseconds.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

DELTA_COMMIT = re.compile(r"^\d{20}\.json$")


@dataclass(frozen=True)
class Window:
    """A moment inside a running micro-batch, told by which of the batch's writes are committed.

    Attributes:
        committed: writes of the batch (by table role) already committed; the last of them opens the window.
        pending: writes not committed yet.
        replayed: the restarted job must commit one of these for the batch, proving a write was still due.
    """

    name: str
    committed: frozenset[str] = frozenset()
    pending: frozenset[str] = frozenset()
    replayed: frozenset[str] = frozenset()

    def holds(self, written: set[str]) -> bool:
        return self.committed <= written and not self.pending & written

    def applies_to(self, roles: set[str]) -> bool:
        return (self.committed | self.pending | self.replayed) <= roles


# Silver's writes in a batch (lakehouse.streaming.silver_batch): quarantine beside silver (it starts first, before
# the dedup, and mostly commits first; either order is possible), then review after silver.
BRONZE_PLANNED = Window("bronze: offsets/N written, commits/N not", replayed=frozenset({"bronze"}))
SILVER_PLANNED = Window("silver: offsets/N written, no table written", pending=frozenset({"quarantine", "silver"}),
                        replayed=frozenset({"quarantine", "silver"}))
QUARANTINE_NOT_SILVER = Window("silver: quarantine committed, silver not",
                               frozenset({"quarantine"}), frozenset({"silver"}), frozenset({"silver"}))
SILVER_NOT_REVIEW = Window("silver: silver committed, fraud_review not",
                           frozenset({"silver"}), frozenset({"review"}), frozenset({"review"}))


def batch_ids(folder: Path) -> set[int]:
    try:
        return {int(name) for name in os.listdir(folder) if name.isdigit()}
    except FileNotFoundError:
        return set()


class DeltaLog:
    """The transaction ids in a Delta table's log, read incrementally: (app id, txn version) -> log version."""

    def __init__(self, table: str):
        self.folder = Path(table) / "_delta_log"
        self.version = -1
        self.txns: dict[tuple[str, int], int] = {}

    def refresh(self) -> DeltaLog:
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return self
        for version in sorted(int(name[:20]) for name in names if DELTA_COMMIT.match(name)):
            if version > self.version:
                self._read(version)
        return self

    def committed(self, query_id: str, batch: int) -> Optional[int]:
        """Log version of the commit carrying this query's batch, or None."""
        return next((at for (app, txn), at in self.txns.items() if txn == batch and app.endswith(query_id)), None)

    def _read(self, version: int) -> None:
        for line in (self.folder / f"{version:020d}.json").read_text().splitlines():
            if line.startswith('{"txn"'):
                txn = json.loads(line)["txn"]
                self.txns[txn["appId"], txn["version"]] = version
        self.version = version


@dataclass(frozen=True)
class Mark:
    """How far a query's files were when a job process started: a window counts only if it opens later."""

    offsets: int
    log_versions: dict[str, int]


@dataclass
class QueryFiles:
    """One streaming query's checkpoint and the Delta tables its batches write, by role."""

    contract: str
    checkpoint: Path
    logs: dict[str, DeltaLog]
    query_id: Optional[str] = field(default=None, init=False)

    def running_batch(self) -> Optional[int]:
        """The batch planned and not committed, or None between batches."""
        planned = batch_ids(self.checkpoint / "offsets")
        if not planned or max(planned) in batch_ids(self.checkpoint / "commits"):
            return None
        return max(planned)

    def has_committed(self) -> bool:
        return bool(batch_ids(self.checkpoint / "commits"))

    def last_committed(self) -> int:
        """The newest committed batch, -1 before the first."""
        return max(batch_ids(self.checkpoint / "commits"), default=-1)

    def is_committed(self, batch: int) -> bool:
        return batch in batch_ids(self.checkpoint / "commits")

    def written(self, batch: int) -> dict[str, int]:
        """Role -> log version of each write of `batch` committed so far."""
        if self.query_id is None:
            metadata = self.checkpoint / "metadata"
            if not metadata.exists():
                return {}
            self.query_id = json.loads(metadata.read_text())["id"]
        found = {role: log.refresh().committed(self.query_id, batch) for role, log in self.logs.items()}
        return {role: version for role, version in found.items() if version is not None}

    def mark(self) -> Mark:
        planned = batch_ids(self.checkpoint / "offsets")
        return Mark(max(planned, default=-1), {role: log.refresh().version for role, log in self.logs.items()})

    def open_window(self, window: Window, since: Mark) -> Optional[int]:
        """The running batch if it is inside `window` and the window opened after `since`."""
        batch = self.running_batch()
        if batch is None:
            return None
        written = self.written(batch)
        if not window.holds(set(written)):
            return None
        if window.committed:
            opened = any(written[role] > since.log_versions[role] for role in window.committed)
        else:
            opened = batch > since.offsets
        return batch if opened else None

    def describe(self) -> str:
        batch = self.running_batch()
        if batch is None:
            return f"{self.contract} between batches"
        return f"{self.contract} batch {batch} written: {', '.join(sorted(self.written(batch))) or 'nothing'}"
