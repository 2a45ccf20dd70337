"""A test run stopped by a signal (a CI job cancelled or timed out) ends as Ctrl-C does: the session's
fixtures are torn down (tests.interrupt), and `make test`'s lanes (tests.lanes) pass it on to each
pytest and wait for them, instead of leaving the services, the YARN mini cluster and the AWS stand-in
they started running."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

SESSION_PROBE = '''
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def service():
    (HERE / "started").touch()
    yield
    (HERE / "torn_down").touch()


def test_waits(service):
    time.sleep(120)
'''

LANE_PROBE = '''
import os, signal, sys, time
from pathlib import Path

marks = Path(__file__).parent


def stopped(signum, frame):
    (marks / f"interrupted-{os.getpid()}").touch()
    sys.exit(2)


signal.signal(signal.SIGINT, stopped)
(marks / f"started-{os.getpid()}").touch()
time.sleep(120)
'''


def wait_for_files(folder: Path, pattern: str, count: int, timeout_s: float = 60) -> list[Path]:
    deadline = time.monotonic() + timeout_s
    while len(found := sorted(folder.glob(pattern))) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def ignore_sigint() -> None:
    """As a non-interactive shell starts a background job: SIGINT ignored, inherited through exec."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_pytest_tears_the_sessions_fixtures_down(tmp_path, stop):
    (tmp_path / "test_probe.py").write_text(SESSION_PROBE)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    run = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.interrupt",
                            "test_probe.py"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           preexec_fn=ignore_sigint)
    try:
        assert wait_for_files(tmp_path, "started", 1), run.stdout.read().decode()
        run.send_signal(stop)
        status = run.wait(60)
    finally:
        run.kill()
    assert (tmp_path / "torn_down").exists()
    assert status == 2  # pytest's "interrupted"


def test_sigterm_to_the_lanes_interrupts_each_lane_and_waits_for_it(tmp_path):
    probe = tmp_path / "lane.py"
    probe.write_text(LANE_PROBE)
    code = ("import sys; from pathlib import Path; from tests import lanes; lanes.interrupt_on_sigterm(); "
            f"sys.exit(lanes.run_lanes([sys.executable, {str(probe)!r}], [], Path({str(tmp_path / 'side.log')!r})))")
    run = subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT_ROOT)
    started = []
    try:
        started = wait_for_files(tmp_path, "started-*", 2)
        assert len(started) == 2
        run.send_signal(signal.SIGTERM)
        status = run.wait(60)
    finally:
        run.kill()
        for mark in started:  # a lane left running by a failed run
            pid = int(mark.name.split("-")[1])
            if not (tmp_path / f"interrupted-{pid}").exists():
                os.kill(pid, signal.SIGKILL)
    assert sorted(path.name.split("-")[1] for path in tmp_path.glob("interrupted-*")) == \
        sorted(path.name.split("-")[1] for path in started)
    assert status != 0
