"""Reads a Delta table's transaction log directly: commits, their timestamps and the files they added.

The benchmark measures from the log rather than from the jobs' own reports: when a row became
visible is the timestamp of the commit that added its file; how many files a micro-batch wrote
is the number of `add` actions in its commit. Only the JSON commit files are read (Delta keeps
them alongside its checkpoints), incrementally, so polling a growing table stays cheap. Both
Spark and deltalake publish a commit file whole (rename or put-if-absent), so a file that
exists is complete.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional


@dataclass(frozen=True)
class AddedFile:
    path: str
    size: int
    num_records: Optional[int]
    data_change: bool


@dataclass
class Commit:
    version: int
    timestamp_ms: int
    operation: str
    metrics: dict[str, str] = field(default_factory=dict)  # Delta's operationMetrics
    added: list[AddedFile] = field(default_factory=list)
    removed_paths: list[str] = field(default_factory=list)

    @property
    def records_added(self) -> int:
        return sum(f.num_records or 0 for f in self.added if f.data_change)


class DeltaLog:
    """The commits of the table at `table_path` (a local folder), read as they appear."""

    def __init__(self, table_path: str):
        self.folder = Path(table_path) / "_delta_log"
        self.commits: list[Commit] = []

    @property
    def next_version(self) -> int:
        return self.commits[-1].version + 1 if self.commits else 0

    @property
    def latest_version(self) -> int:
        return self.next_version - 1

    def refresh(self) -> list[Commit]:
        """Reads the commits written since the last call; returns them."""
        new = []
        while True:
            path = self.folder / f"{self.next_version:020d}.json"
            try:
                commit = parse_commit(self.next_version, path.read_text())
            except FileNotFoundError:
                return new
            self.commits.append(commit)
            new.append(commit)

    def live_files(self) -> dict[str, AddedFile]:
        """Live data files now (path -> file), after reading any new commits."""
        self.refresh()
        live: dict[str, AddedFile] = {}
        for commit in self.commits:
            for added in commit.added:
                live[added.path] = added
            for removed in commit.removed_paths:
                live.pop(removed, None)
        return live

    def rows(self) -> int:
        """Rows in the table now, from the record counts of live files (no data file is read)."""
        return sum(f.num_records or 0 for f in self.live_files().values())

    def added_by(self) -> dict[str, Commit]:
        """Live data file path -> the commit that added it."""
        live = self.live_files()
        return {f.path: c for c in self.commits for f in c.added if f.path in live}

    def version(self) -> int:
        """The latest version after reading any new commits (-1: no commit yet)."""
        self.refresh()
        return self.latest_version


def parse_commit(version: int, text: str) -> Commit:
    commit = Commit(version=version, timestamp_ms=0, operation="")
    for line in text.splitlines():
        if not line.strip():
            continue
        action = json.loads(line)
        if "commitInfo" in action:
            info = action["commitInfo"]
            commit.timestamp_ms = int(info.get("timestamp") or info.get("inCommitTimestamp") or 0)
            commit.operation = info.get("operation", "")
            commit.metrics = info.get("operationMetrics", {})
        elif "add" in action:
            add = action["add"]
            stats = json.loads(add["stats"]) if add.get("stats") else {}
            commit.added.append(AddedFile(add["path"], int(add.get("size", 0)), stats.get("numRecords"),
                                          bool(add.get("dataChange", True))))
        elif "remove" in action:
            commit.removed_paths.append(action["remove"]["path"])
    return commit
