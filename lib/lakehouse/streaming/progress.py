"""Per-batch logs of every streaming query: rows in, duration, lag."""
from __future__ import annotations

import logging

from lakehouse.streaming.conflicts import is_commit_conflict
from lakehouse.streaming.events import JsonProgressListener

log = logging.getLogger("lakehouse.streaming")


class ProgressLogger(JsonProgressListener):
    """Logs one line per micro-batch, so a long catch-up shows how far it has got."""

    def onQueryStarted(self, event) -> None:
        log.info("%s started (query id %s, run id %s)", event.name, event.id, event.runId)

    def onQueryProgress(self, event) -> None:
        progress = event.progress
        parts = [f"{progress.numInputRows} rows in"]
        if (progress.name or "").startswith("bronze."):  # bronze appends every row it reads
            parts.append(f"{progress.numInputRows} appended")
        parts.append(f"{progress.batchDuration / 1000:.1f}s")
        behind = [source.metrics.get("maxOffsetsBehindLatest") for source in progress.sources if source.metrics]
        if any(value is not None for value in behind):
            parts.append(f"max {max(int(v) for v in behind if v is not None)} offsets behind the topic's end")
        log.info("%s batch %d: %s", progress.name, progress.batchId, ", ".join(parts))

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        if is_commit_conflict(event.exception):  # the run restarts it, or logs an error when it gives up
            log.warning("query %s stopped on a Delta commit conflict: %s", event.id, event.exception.splitlines()[0])
        elif event.exception:
            log.error("query %s failed: %s", event.id, event.exception.splitlines()[0])
        else:
            log.info("query %s stopped", event.id)
