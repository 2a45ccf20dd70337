"""JSON lines a benchmark driver writes as things happen (it may be killed with SIGKILL): its start,
and every micro-batch's progress (Spark's durations), read back by bench.job_phases."""
from __future__ import annotations

import json
import threading
import time

from lakehouse.streaming.events import JsonProgressListener


class Events:
    """JSON lines appended and flushed one by one, from any thread."""

    def __init__(self, path: str):
        self._file = open(path, "a")  # noqa: SIM115 -- open until the process ends or is killed
        self._lock = threading.Lock()

    def write(self, event: str, **fields) -> None:
        with self._lock:
            self._file.write(json.dumps({"event": event, "at": time.time(), **fields}) + "\n")
            self._file.flush()


class ProgressEvents(JsonProgressListener):
    """Each micro-batch's progress as a "progress" event: query name, batch id, rows, trigger start, durations."""

    def __init__(self, events: Events):
        self.events = events

    def onQueryStarted(self, event) -> None:
        pass

    def onQueryProgress(self, event) -> None:
        progress = event.progress
        self.events.write("progress", query=progress.name, batch_id=progress.batchId, rows=progress.numInputRows,
                          trigger_started=progress.timestamp, durations_ms=dict(progress.durationMs))

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        pass
