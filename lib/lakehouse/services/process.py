"""Background server processes tracked by pid files under the services state folder."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Optional


class ServiceError(RuntimeError):
    """A local service cannot be installed, started or reached."""


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False  # our own child, now reaped
    except ChildProcessError:
        pass  # not our child: ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pid(pid_file: Path) -> Optional[int]:
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def spawn(command: list[str], log_file: Path, pid_file: Path, env: Optional[dict] = None,
          cwd: Optional[Path] = None) -> int:
    """Starts `command` detached from this process (it outlives the caller) and records its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env, cwd=cwd,
        )
    pid_file.write_text(str(proc.pid))
    return proc.pid


def wait_until(check: Callable[[], bool], timeout: float, what: str, pid: Optional[int], log_file: Path) -> None:
    """Polls `check` until true; fails early with the log's tail if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if pid is not None and not pid_alive(pid):
            raise ServiceError(f"{what} exited during start-up; last lines of {log_file}:\n{tail(log_file)}")
        time.sleep(0.25)
    raise ServiceError(f"{what} not ready after {timeout:.0f}s; last lines of {log_file}:\n{tail(log_file)}")


def terminate(pid_file: Path, timeout: float = 30.0) -> bool:
    """Stops the process in `pid_file` (SIGTERM, then SIGKILL); returns whether one was running."""
    pid = read_pid(pid_file)
    pid_file.unlink(missing_ok=True)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    return True


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
