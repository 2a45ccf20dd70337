"""`make test`: the whole suite in two pytest processes at once, so the machine's two cores both work.

Run as one pytest process, the suite kept 0.9 cores busy on average, of two (42 CPU minutes in a
48-minute run): much of its time is spent waiting (JVM and YARN start-up, polls, the AWS stand-in).
So the EMR stand-in tier, the benchmark's quick run, the DAG tests and the README's commands
(`tests/deploy`, `tests/bench`, `tests/dags`, `test_readme_commands.py`: each on its own topics,
database, buckets, Airflow home and YARN cluster) run as one lane,
and every other test as the other (README "Tests" has the lanes' measured times). Each lane is a plain
pytest run with the same arguments; the local services are started once before both (and
stopped after, if they were not running), so neither lane's fixtures start or stop them under the
other. The other lane's output streams; this lane's is written to a log and printed when both are
done. The exit status is the first failing lane's, else 0 (a lane the arguments leave without tests
is not a failure: `PYTEST_ARGS='-m deploy'`).

Interrupted (Ctrl-C, or SIGTERM: a CI job cancelled or timed out), it sends each pytest still running
one SIGINT, which ends it "interrupted" after tearing its fixtures down (tests.interrupt), waits for
them (killing one still running after STOP_GRACE_S), then stops the services it started. Each pytest
runs in its own session, so a terminal's Ctrl-C reaches only this process, which passes it on once.

Arguments naming test paths run one pytest over just those, as before: `make test PYTEST_ARGS=tests/unit`.

    python -m tests.lanes [pytest arguments]
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIDE_LANE = ("tests/deploy", "tests/bench", "tests/dags", "tests/integration/test_readme_commands.py")
LOG = ROOT / ".local" / "test-lanes" / "side-lane.log"
NO_TESTS = 5  # pytest's exit status when the arguments select no test
STOP_GRACE_S = 120.0  # for an interrupted lane to tear its fixtures down (a YARN mini cluster, services)


def names_paths(args: list[str]) -> bool:
    """Whether `args` select tests by path (a path or a node id) rather than by option alone."""
    return any(not arg.startswith("-") and (ROOT / arg.split("::")[0]).exists() for arg in args)


def main(argv: list[str]) -> int:
    interrupt_on_sigterm()
    pytest = [sys.executable, "-m", "pytest"]
    if names_paths(argv):
        [status] = wait_all([start([*pytest, *argv])])
        return status
    from lakehouse.config import load_config
    from lakehouse.services import stack

    cfg = load_config("local", ROOT / "conf")
    started_services = stack.up(cfg)
    try:
        return run_lanes(pytest, argv)
    finally:
        stack.down(cfg, started_services)


def interrupt_on_sigterm() -> None:
    """SIGTERM raises KeyboardInterrupt, as Ctrl-C does, so the lanes are stopped and waited for."""
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_lanes(pytest: list[str], argv: list[str], log_path: Path = LOG) -> int:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(log_path, "w") as log:
        side = start([*pytest, *SIDE_LANE, *argv], stdout=log)
        print(f"lanes: {' and '.join(SIDE_LANE)} run beside the rest (output: {log_path}, printed at the end)",
              flush=True)
        main_status, side_status = wait_all([start([*pytest, *(f"--ignore={path}" for path in SIDE_LANE), *argv]),
                                             side])
    print(f"\n{'=' * 30} lane {' + '.join(SIDE_LANE)} {'=' * 30}")
    print(log_path.read_text(errors="replace"), end="")
    print(f"lanes: the rest exited {main_status}, {' + '.join(SIDE_LANE)} exited {side_status}; "
          f"{time.monotonic() - started:.0f}s in all", flush=True)
    return combined_status(main_status, side_status)


def start(command: list[str], stdout=None) -> subprocess.Popen:
    """A lane in its own session: a terminal's Ctrl-C reaches this process only (see the module)."""
    return subprocess.Popen(command, cwd=ROOT, stdout=stdout, stderr=subprocess.STDOUT if stdout else None,
                            start_new_session=True)


def wait_all(lanes: list[subprocess.Popen]) -> list[int]:
    """The lanes' exit statuses; interrupted, stops them as the module says, then re-raises."""
    try:
        return [lane.wait() for lane in lanes]
    except BaseException:
        for lane in lanes:
            if lane.poll() is None:
                lane.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_GRACE_S
        for lane in lanes:
            try:
                lane.wait(max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                lane.kill()
                lane.wait()
        raise


def combined_status(*statuses: int) -> int:
    """The first failure's status; pytest's "no tests collected" (5) counts only if no lane ran any."""
    failed = [status for status in statuses if status not in (0, NO_TESTS)]
    if failed:
        return failed[0]
    return NO_TESTS if all(status == NO_TESTS for status in statuses) else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt as interrupt:
        print(f"lanes: interrupted ({interrupt or 'Ctrl-C'}): the lanes were stopped", file=sys.stderr)
        sys.exit(130)
