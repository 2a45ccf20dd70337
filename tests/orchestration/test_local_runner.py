"""The local runner's process handling: failures carry the output's tail, a kill stops the whole
process group, and a job file that does not exist fails before anything starts."""
from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from lakehouse.orchestration.local import LocalJobError, LoggedProcess, local_spark_submit


class ListLog:
    def __init__(self):
        self.lines = []

    def info(self, fmt, *args):
        self.lines.append(fmt % args)


def test_a_failing_process_raises_with_its_status_and_last_lines(tmp_path):
    script = "import sys\nfor i in range(100): print('line', i)\nsys.exit(3)"
    log = ListLog()
    with pytest.raises(LocalJobError) as failure:
        LoggedProcess([sys.executable, "-c", script], str(tmp_path)).run(log)
    message = str(failure.value)
    assert message.startswith(f"{os.path.basename(sys.executable)} exited with status 3; last lines:")
    assert message.endswith("line 99")
    assert "line 59" not in message  # only the tail
    assert "line 0" in log.lines  # the whole output went to the task log


def test_kill_stops_the_process_and_its_children(tmp_path):
    pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "print('started', flush=True)\ntime.sleep(120)\n"
    )
    process = LoggedProcess([sys.executable, "-c", script], str(tmp_path))
    outcome = []
    runner = threading.Thread(target=lambda: outcome.append(_run(process)), daemon=True)
    runner.start()
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.1)
    child_pid = int(pid_file.read_text())
    process.kill()
    runner.join(timeout=30)
    assert not runner.is_alive()
    assert "exited with status -15" in outcome[0]
    time.sleep(0.2)
    assert not _alive(child_pid), "the grandchild survived the kill"


def test_only_spark_submit_commands_run_as_local_jobs(tmp_path):
    with pytest.raises(ValueError, match="expected a spark-submit command"):
        local_spark_submit(["python", "job.py"], str(tmp_path))
    process = local_spark_submit(["spark-submit", "--master", "local[2]", "job.py"], str(tmp_path))
    assert process.command[0] == os.path.join(os.path.dirname(sys.executable), "spark-submit")
    assert process.env["PYSPARK_PYTHON"] == sys.executable


def test_a_missing_job_file_fails_the_task_for_good(tmp_path):
    from airflow.sdk.exceptions import AirflowFailException

    from lakehouse.orchestration.operators import LocalSparkSubmitOperator

    missing = tmp_path / "jobs" / "batch" / "not_written_yet.py"
    task = LocalSparkSubmitOperator(task_id="t", command=["spark-submit", str(missing)], job_file=str(missing),
                                    cwd=str(tmp_path))
    with pytest.raises(AirflowFailException, match=f"job file {missing} does not exist"):
        task.execute({})


def _run(process: LoggedProcess) -> str:
    try:
        process.run(ListLog())
    except LocalJobError as exc:
        return str(exc)
    return "finished"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for its reaper is dead too
        return stat.read().split()[2] != "Z"
