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

Arguments naming test paths run one pytest over just those, as before: `make test PYTEST_ARGS=tests/unit`.

    python -m tests.lanes [pytest arguments]
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIDE_LANE = ("tests/deploy", "tests/bench", "tests/dags", "tests/integration/test_readme_commands.py")
LOG = ROOT / ".local" / "test-lanes" / "side-lane.log"
NO_TESTS = 5  # pytest's exit status when the arguments select no test


def names_paths(args: list[str]) -> bool:
    """Whether `args` select tests by path (a path or a node id) rather than by option alone."""
    return any(not arg.startswith("-") and (ROOT / arg.split("::")[0]).exists() for arg in args)


def main(argv: list[str]) -> int:
    pytest = [sys.executable, "-m", "pytest"]
    if names_paths(argv):
        return subprocess.call([*pytest, *argv], cwd=ROOT)
    from lakehouse.config import load_config
    from lakehouse.services import stack

    cfg = load_config("local", ROOT / "conf")
    started_services = stack.up(cfg)
    try:
        return run_lanes(pytest, argv)
    finally:
        stack.down(cfg, started_services)


def run_lanes(pytest: list[str], argv: list[str]) -> int:
    LOG.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(LOG, "w") as log:
        side = subprocess.Popen([*pytest, *SIDE_LANE, *argv], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        print(f"lanes: {' and '.join(SIDE_LANE)} run beside the rest (output: {LOG.relative_to(ROOT)}, "
              "printed at the end)", flush=True)
        try:
            main_status = subprocess.call([*pytest, *(f"--ignore={path}" for path in SIDE_LANE), *argv], cwd=ROOT)
            side_status = side.wait()
        except BaseException:
            side.terminate()
            side.wait()
            raise
    print(f"\n{'=' * 30} lane {' + '.join(SIDE_LANE)} {'=' * 30}")
    print(LOG.read_text(errors="replace"), end="")
    print(f"lanes: the rest exited {main_status}, {' + '.join(SIDE_LANE)} exited {side_status}; "
          f"{time.monotonic() - started:.0f}s in all", flush=True)
    return combined_status(main_status, side_status)


def combined_status(*statuses: int) -> int:
    """The first failure's status; pytest's "no tests collected" (5) counts only if no lane ran any."""
    failed = [status for status in statuses if status not in (0, NO_TESTS)]
    if failed:
        return failed[0]
    return NO_TESTS if all(status == NO_TESTS for status in statuses) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
