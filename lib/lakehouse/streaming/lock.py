"""One running query per checkpoint: an exclusive lock held for the life of the process.

Spark detects two queries on one checkpoint only inside one JVM; two processes would interleave
offset and commit files and corrupt it. On a local checkpoint an advisory `flock` on
`<checkpoint>.lock` excludes a second process (and a second run inside the same process); the
kernel releases it when the holder exits, even on SIGKILL, so a crash never leaves a stale lock.

S3 has no such primitive: with `streaming.checkpoint_lock: none` the scheduler guarantees one
runner per checkpoint (one EMR step at a time, Airflow `max_active_runs=1`); see README "Streaming".
"""
from __future__ import annotations

import datetime as dt
import errno
import fcntl
import os
import socket
from typing import Optional

from lakehouse.config import Config


class CheckpointLockedError(RuntimeError):
    """Another run holds the checkpoint."""


class CheckpointLock:
    """An exclusive, non-blocking lock on `<checkpoint>.lock`; release() or process exit frees it."""

    def __init__(self, checkpoint: str):
        self.checkpoint = checkpoint
        self.path = f"{local_path(checkpoint).rstrip('/')}.lock"
        self._fd: Optional[int] = None

    def acquire(self) -> CheckpointLock:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 500, 0).decode(errors="replace").strip() or "an unknown process"
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            raise CheckpointLockedError(
                f"checkpoint {self.checkpoint} is in use by {holder} (lock {self.path}); a second query on "
                "the same checkpoint would corrupt it. Stop the other run, or give this one another checkpoint."
            ) from None
        os.ftruncate(fd, 0)
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {now}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def acquire_checkpoint_lock(cfg: Config, checkpoint: str) -> Optional[CheckpointLock]:
    """Locks the checkpoint as `streaming.checkpoint_lock` says; None when locking is off."""
    if cfg.streaming.checkpoint_lock == "none":
        return None
    if "://" in checkpoint and not checkpoint.startswith("file://"):
        raise CheckpointLockedError(
            f"streaming.checkpoint_lock is 'file' but checkpoint {checkpoint} is not local; set it to 'none' "
            "and let the scheduler run one instance per checkpoint (README \"Streaming\")"
        )
    return CheckpointLock(checkpoint).acquire()


def local_path(checkpoint: str) -> str:
    return checkpoint[len("file://"):] if checkpoint.startswith("file://") else checkpoint
