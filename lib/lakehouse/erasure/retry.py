"""Bounded retries of a Delta commit that lost a race (a silver MERGE or a bronze append committed
first). Local to the erasure for now; a shared retry module can replace `retry_conflicts`."""
from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def conflict_types() -> tuple[type, ...]:
    from delta import exceptions

    return (exceptions.DeltaConcurrentModificationException, exceptions.ConcurrentWriteException,
            exceptions.MetadataChangedException, exceptions.ProtocolChangedException,
            exceptions.ConcurrentAppendException, exceptions.ConcurrentDeleteReadException,
            exceptions.ConcurrentDeleteDeleteException, exceptions.ConcurrentTransactionException)


def retry_conflicts(action: Callable[[], T], what: str, attempts: int = 5, wait_s: float = 1.0) -> T:
    """Runs `action`, again after a Delta conflict, at most `attempts` times (waits grow linearly)."""
    conflicts = conflict_types()
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except conflicts as exc:
            if attempt == attempts:
                raise
            log.warning("%s: Delta conflict (%s), attempt %d of %d, retrying", what, type(exc).__name__,
                        attempt, attempts)
            time.sleep(wait_s * attempt)
    raise AssertionError("unreachable")
