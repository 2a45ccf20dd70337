"""The checkpoint lock: exclusive across processes and within one, released on exit, even SIGKILL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from lakehouse.streaming.lock import CheckpointLock, CheckpointLockedError, acquire_checkpoint_lock
from tests.conftest import PROJECT_ROOT, local_config

HOLD = """
import sys, time
from lakehouse.streaming.lock import CheckpointLock
CheckpointLock(sys.argv[1]).acquire()
print("locked", flush=True)
time.sleep(600)
"""


def hold_in_another_process(checkpoint: str) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, checkpoint], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_holder_is_refused_with_the_first_ones_identity(tmp_path):
    checkpoint = str(tmp_path / "cp")
    holder = hold_in_another_process(checkpoint)
    try:
        with pytest.raises(CheckpointLockedError, match=rf"in use by pid {holder.pid} on .* since "):
            CheckpointLock(checkpoint).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    CheckpointLock(checkpoint).acquire().release()  # the kernel dropped the killed holder's lock


def test_two_runs_in_one_process_exclude_each_other_until_release(tmp_path):
    checkpoint = str(tmp_path / "cp")
    first = CheckpointLock(checkpoint).acquire()
    with pytest.raises(CheckpointLockedError, match=f"pid {os.getpid()}"):
        CheckpointLock(checkpoint).acquire()
    first.release()
    CheckpointLock(checkpoint).acquire().release()


def test_a_remote_checkpoint_needs_locking_off(tmp_path):
    cfg = local_config()
    with pytest.raises(CheckpointLockedError, match="set it to 'none'"):
        acquire_checkpoint_lock(cfg, "s3a://bucket/checkpoints/x")
    assert acquire_checkpoint_lock(local_config("streaming.checkpoint_lock=none"), "s3a://bucket/cp") is None
    started = time.monotonic()
    acquire_checkpoint_lock(cfg, f"file://{tmp_path}/cp").release()
    assert time.monotonic() - started < 5
