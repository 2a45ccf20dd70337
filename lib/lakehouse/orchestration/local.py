"""The local runner: a job's spark-submit command run as a process on this machine.

With `emr.runner: local` the DAGs run the very command line EMR would get (minus the release
on S3) against the local services, so `airflow dags test` exercises the real jobs. The process
gets its own process group, so killing the task kills the driver's JVM and Python workers too.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional

from lakehouse.runtime.executables import spark_submit_env, spark_submit_executable

TAIL_LINES = 40


class LocalJobError(RuntimeError):
    """A local process (spark-submit, dbt) exited with a non-zero status."""


def local_spark_submit(command: Sequence[str], cwd: str) -> LoggedProcess:
    """The process that runs a commands.spark_submit_command locally, with pyspark's spark-submit.

    The driver and its Python workers use this interpreter, which has the package installed.
    """
    if not command or command[0] != "spark-submit":
        raise ValueError(f"expected a spark-submit command, got {list(command)[:1]}")
    return LoggedProcess([spark_submit_executable(), *command[1:]], cwd, spark_submit_env({}))


class LoggedProcess:
    """Runs one command to completion in its own process group, logging its output line by line."""

    def __init__(self, command: Sequence[str], cwd: str, extra_env: Optional[Mapping[str, str]] = None):
        self.command = list(command)
        self.cwd = cwd
        self.env = {**os.environ, **(extra_env or {})}
        self.process: Optional[subprocess.Popen] = None

    def run(self, log: logging.Logger) -> None:
        """Runs the command; raises LocalJobError with the last lines of output when it fails."""
        log.info("running in %s: %s", self.cwd, " ".join(self.command))
        tail: deque = deque(maxlen=TAIL_LINES)
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", start_new_session=True,
        )
        for line in self.process.stdout:
            tail.append(line.rstrip())
            log.info("%s", line.rstrip())
        status = self.process.wait()
        if status != 0:
            name = Path(self.command[0]).name
            raise LocalJobError(f"{name} exited with status {status}; last lines:\n" + "\n".join(tail))

    def kill(self) -> None:
        """Stops the whole process group (for spark-submit: the driver JVM and its Python workers)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
