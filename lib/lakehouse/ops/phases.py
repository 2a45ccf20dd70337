"""Wall time per named phase of a micro-batch, kept only while a recorder is installed (the benchmark).

Job code wraps its steps in `phase(name)`; without a recorder (every production run) that costs a
look-up of one thread-local attribute. `batch(label, batch_id)` opens one record per micro-batch on
the calling thread (each query's foreachBatch runs on its own thread, so concurrent queries do not
mix). A phase nested in another is recorded under `outer/inner`, and its time is taken out of the
outer one's: the phases of a record add up to the time spent in them. Work the batch hands to another
thread (`carried`) records its phases apart, under `beside`.
"""
from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Callable, Optional, TypeVar

_recorder: Optional[Callable[[dict], None]] = None
_open = threading.local()
T = TypeVar("T")


def install(recorder: Optional[Callable[[dict], None]]) -> None:
    """`recorder(record)` receives each finished batch's record; None switches recording off."""
    global _recorder
    _recorder = recorder


@contextlib.contextmanager
def batch(label: str, batch_id: int) -> Iterator[None]:
    """One record {label, batch_id, started_at (epoch seconds), total_s, phases: {name: seconds}} for the
    batch run inside."""
    recorder = _recorder
    if recorder is None or getattr(_open, "record", None) is not None:
        yield
        return
    record = {"label": label, "batch_id": batch_id, "started_at": time.time(), "phases": {}}
    _open.record, _open.stack = record, []
    started = time.perf_counter()
    try:
        yield
    finally:
        record["total_s"] = time.perf_counter() - started
        _open.record = None
        recorder(record)


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Adds the time spent inside (less that of phases nested in it) to `name` in the open record."""
    record = getattr(_open, "record", None)
    if record is None:
        yield
        return
    stack, phases = _open.stack, record["phases"]
    key = "/".join([*stack[-1:], name])
    stack.append(key)
    started = time.perf_counter()
    try:
        yield
    finally:
        spent = time.perf_counter() - started
        stack.pop()
        phases[key] = phases.get(key, 0.0) + spent
        if stack:
            phases[stack[-1]] = phases.get(stack[-1], 0.0) - spent


def carried(work: Callable[[], T]) -> Callable[[], T]:
    """`work`, to run on another thread, recording its phases in the calling thread's open record under
    `beside` (not `phases`: they overlap the caller's phases, which still add up to the caller's time)."""
    record = getattr(_open, "record", None)
    if record is None:
        return work
    beside = {"phases": record.setdefault("beside", {})}

    def run() -> T:
        _open.record, _open.stack = beside, []
        try:
            return work()
        finally:
            _open.record = None

    return run
