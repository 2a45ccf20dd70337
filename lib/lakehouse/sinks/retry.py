"""Bounded retries of a Delta write whose commit lost to a concurrent writer.

Delta commits optimistically: a commit is refused when a commit made since the write read the
table invalidates what it read (OPTIMIZE rewrote files a MERGE read, a backfill or an erasure
changed its rows). Running the whole write again reads the latest snapshot and plans the write
anew. A write that carries a Delta transaction id is safe to run again: had it committed after
all, Delta would skip it.
"""
from __future__ import annotations

import logging
import random
import time
from typing import Callable, Optional, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 5        # the first try and 4 retries
BACKOFF_S = 0.5     # before the first retry; doubled for each next one, with up to 50% jitter


def commit_conflicts() -> tuple[type[Exception], ...]:
    """Delta's commit conflict exceptions (its Python classes share no base class but pyspark's)."""
    from delta import exceptions

    return (exceptions.DeltaConcurrentModificationException, exceptions.ConcurrentWriteException,
            exceptions.MetadataChangedException, exceptions.ProtocolChangedException,
            exceptions.ConcurrentAppendException, exceptions.ConcurrentDeleteReadException,
            exceptions.ConcurrentDeleteDeleteException, exceptions.ConcurrentTransactionException)


def retry_conflicts(write: Callable[[], T], what: str, give_up: Optional[Callable[[], bool]] = None,
                    attempts: int = ATTEMPTS, backoff_s: float = BACKOFF_S) -> T:
    """Runs `write`, again after a commit conflict, at most `attempts` times in all.

    Args:
        write: the whole write, reading the table again each time it runs.
        what: names the write in the log line of each retry.
        give_up: asked after a conflict; True re-raises it at once (e.g. another run committed
            this very transaction: running it again would only be skipped).
    """
    attempt = 1
    while True:
        try:
            return write()
        except commit_conflicts() as conflict:
            if attempt >= attempts or (give_up is not None and give_up()):
                raise
            delay = backoff_s * 2 ** (attempt - 1) * (1 + random.random() / 2)
            log.warning("%s: commit refused by a concurrent writer (%s); retry %d of %d in %.1fs",
                        what, type(conflict).__name__, attempt, attempts - 1, delay)
            time.sleep(delay)
            attempt += 1
