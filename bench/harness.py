"""Processes under measurement: wall time, peak memory of the whole process tree, logs, kill.

Every job and baseline runs as its own process (group), the way users run it. A sampler thread
adds up the resident memory of each process and all its descendants (spark-submit -> JVM ->
Python workers) several times a second and keeps the peak.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import psutil

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_EVERY_S = 0.5


class BenchError(RuntimeError):
    """A process under measurement failed, or a check on its output did not hold."""


def say(message: str) -> None:
    """Progress on the console (stdout, flushed: `make bench` shows it as it happens)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class MemorySampler:
    """Peak of the summed RSS of some root processes and all their descendants."""

    def __init__(self) -> None:
        self.roots: list[psutil.Process] = []
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def add(self, pid: int) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            self.roots.append(psutil.Process(pid))

    def sample(self) -> int:
        total = 0
        for root in list(self.roots):
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for process in tree:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
        self.peak_bytes = max(self.peak_bytes, total)
        return total

    def close(self) -> float:
        """Stops sampling; returns the peak in MiB."""
        self._stop.set()
        self._thread.join()
        return self.peak_bytes / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(SAMPLE_EVERY_S)


class Proc:
    """One measured process in its own process group, output to a log file."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, env: Optional[dict] = None,
                 sampler: Optional[MemorySampler] = None):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = {**os.environ, **bench_env(), **(env or {})}
        self.sampler = sampler or MemorySampler()
        self._own_sampler = sampler is None
        self.popen: Optional[subprocess.Popen] = None
        self.started = self.ended = 0.0
        self.wall_started = 0.0  # epoch seconds, to compare with Delta commit timestamps

    def start(self) -> Proc:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 -- the child owns it until it exits
        log.write(f"$ {' '.join(self.argv)}\n".encode())
        log.flush()
        self.started = time.monotonic()
        self.wall_started = time.time()
        self.popen = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        log.close()
        self.sampler.add(self.popen.pid)
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait(self, timeout_s: float, check: bool = True) -> int:
        """Waits for the exit; a timeout kills the group. Raises BenchError on failure if `check`."""
        try:
            status = self.popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BenchError(f"{self.name} still running after {timeout_s:.0f}s: killed\n{self.tail()}") from None
        self.ended = time.monotonic()
        if check and status != 0:
            raise BenchError(f"{self.name} exited with status {status}; last lines of {self.log_path}:\n{self.tail()}")
        return status

    def wait_reporting(self, timeout_s: float, report, every_s: float = 10.0) -> int:
        """`wait`, printing `report()` (a progress line) every `every_s` seconds meanwhile."""
        deadline = time.monotonic() + timeout_s
        while self.running and time.monotonic() < deadline:
            try:
                self.popen.wait(timeout=every_s)
            except subprocess.TimeoutExpired:
                say(f"  {self.name}: {report()} after {self.elapsed_s:.0f}s")
        return self.wait(max(deadline - time.monotonic(), 1.0))

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signals the whole process group (driver JVM, its Python side and workers)."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def stop(self, grace_s: float = 30.0) -> None:
        """SIGTERM to the group, SIGKILL if it is still there after `grace_s`."""
        if not self.running:
            self.kill()  # leftovers of the group, if any
            return
        self.kill(signal.SIGTERM)
        try:
            self.popen.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.kill()
            self.popen.wait()
        self.kill()

    @property
    def elapsed_s(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def peak_mb(self) -> float:
        return self.sampler.close() if self._own_sampler else self.sampler.peak_bytes / 2**20

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(deque(self.log_text().splitlines(), maxlen=lines))


def bench_env() -> dict[str, str]:
    """Environment of every child: this interpreter for PySpark, the project root importable."""
    from lakehouse.runtime.executables import spark_submit_env

    path = os.environ.get("PYTHONPATH", "")
    return spark_submit_env({"PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)})


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def spark_submit(cfg, script: str, overrides: Sequence[str], *args: str, java_options: Sequence[str] = ()) -> list[str]:
    """The spark-submit command users run: launch options from the config (plus the driver's
    `java_options`), then the job's flags."""
    from lakehouse.runtime.executables import spark_submit_executable
    from lakehouse.spark.session import spark_submit_args

    return [spark_submit_executable(), *spark_submit_args(cfg, java_options), str(ROOT / script), "--env", cfg.env,
            "--conf-dir", str(ROOT / "conf"), *(f"--set={o}" for o in overrides), *args]


def wait_for(check, timeout_s: float, what: str, every_s: float = 0.2, procs: Sequence[Proc] = ()):
    """Polls `check()` until it returns a truthy value; fails early if one of `procs` has exited."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        for proc in procs:
            if not proc.running:
                raise BenchError(f"{proc.name} exited while waiting for {what}:\n{proc.tail()}")
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(every_s)
