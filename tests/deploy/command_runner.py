"""EMR's command-runner.jar for moto's EMR: runs every step moto receives, exactly as received.

moto accepts clusters and steps but never runs a step (it stays RUNNING or PENDING). This thread
plays the part of the cluster: it takes each new step of every active cluster in submission order,
runs its arguments as a command on the stand-in's primary node (`spark-submit ... --deploy-mode
cluster` onto the YARN mini cluster), and moves the step to COMPLETED or FAILED when the command
ends, with the reason a failed step shows (the command's last lines and the driver's log). Steps
run one at a time: this machine has two cores. Every finished step is appended to a JSON-lines
file (`StepLog`), which the tests read. It runs beside moto's server, whose objects it moves
(tests/deploy/aws_standin.py).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import subprocess
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from lakehouse.services.yarn import first_application_id
from tests.deploy.standin import EmrStandIn

log = logging.getLogger(__name__)

ACTIVE = ("STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING")
POLL_S = 0.5
STEP_TIMEOUT_S = 900
TAIL = 40


@dataclass
class CapturedStep:
    """One step as moto received it, and how running it ended."""

    cluster_id: str
    step_id: str
    name: str
    jar: str
    args: list[str]
    state: str = "RUNNING"
    output: str = ""
    driver_log: str = ""
    seconds: float = 0.0

    def job(self) -> str:
        """The job file's name, e.g. kafka_to_bronze."""
        found = [arg for arg in self.args if arg.endswith(".py")]
        return Path(found[0]).stem if found else ""


class StepLog:
    """The steps the runner finished, in order, read back from its JSON-lines file."""

    def __init__(self, path: Path):
        self.path = path

    def append(self, step: CapturedStep) -> None:
        with self.path.open("a") as out:
            out.write(json.dumps(dataclasses.asdict(step)) + "\n")

    @property
    def captured(self) -> list[CapturedStep]:
        if not self.path.is_file():
            return []
        return [CapturedStep(**json.loads(line)) for line in self.path.read_text().splitlines() if line]


class CommandRunner(threading.Thread):
    """Runs moto's EMR steps on the stand-in until stopped."""

    def __init__(self, standin: EmrStandIn, logs_dir: Path):
        super().__init__(name="emr-command-runner", daemon=True)
        self.standin = standin
        self.logs_dir = logs_dir
        self.steps = StepLog(logs_dir / "steps.jsonl")
        self.started: set[str] = set()
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            step = None
            try:
                step = self._next_step()
                if step is None:
                    time.sleep(POLL_S)
                    continue
                self._execute(*step)
            except Exception as exc:  # a dead runner would look like a hung step: fail the step, go on
                log.exception("command runner")
                if step is not None:
                    cluster, failed = step
                    self.steps.append(CapturedStep(cluster.id, failed.id, failed.name, failed.jar, list(failed.args),
                                                   "FAILED", output=traceback.format_exc()))
                    failed.last_state_change_reason = f"command-runner: {exc!r}"
                    failed.state = "FAILED"

    def _next_step(self):
        from moto.emr.models import emr_backends

        done = self.started
        # Every region moto keeps: behind a bare IP endpoint, moto files some requests under us-east-1.
        clusters = [cluster for regions in list(emr_backends.values()) for backend in list(regions.values())
                    for cluster in list(backend.clusters.values())]
        for cluster in clusters:
            if cluster.state not in ACTIVE:
                continue
            for step in list(cluster.steps):
                if step.id not in done and step.state in ("PENDING", "RUNNING"):
                    return cluster, step
        return None

    def _execute(self, cluster, step) -> None:
        self.started.add(step.id)
        jar = step.jar
        if jar != "command-runner.jar":
            raise AssertionError(f"step {step.id} uses {jar}: only command-runner.jar steps are emulated")
        captured = CapturedStep(cluster.id, step.id, step.name, jar, list(step.args))
        step.state = "RUNNING"
        step.start()
        started = time.monotonic()
        log_path = self.logs_dir / f"{step.id}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "w") as out:
            try:
                result = subprocess.run(captured.args, cwd=self.standin.home / "hadoop", stdout=out,
                                        stderr=subprocess.STDOUT, env=self.standin.command_environment(),
                                        timeout=STEP_TIMEOUT_S, check=False)
                status = result.returncode
            except (OSError, subprocess.TimeoutExpired) as exc:
                out.write(f"\ncommand-runner: {exc}\n")
                status = -1
        captured.seconds = time.monotonic() - started
        captured.output = log_path.read_text(errors="replace")
        captured.driver_log = self._driver_log(captured.output)
        captured.state = "COMPLETED" if status == 0 else "FAILED"
        if status != 0:
            tail = "\n".join((captured.driver_log or captured.output).splitlines()[-TAIL:])
            step.last_state_change_reason = f"command exited with status {status}; last lines:\n{tail}"
        step.end_date_time = dt.datetime.now(dt.timezone.utc)
        self.steps.append(captured)
        step.state = captured.state
        log.info("step %s (%s) %s in %.0fs", step.id, captured.job(), captured.state, captured.seconds)

    def _driver_log(self, output: str) -> str:
        """The driver's container logs (the ApplicationMaster's: the JVM on stderr, the Python
        process on stdout), as EMR keeps them under its log URI."""
        application = first_application_id(output)
        containers = self.standin.yarn.container_logs(application) if application else []
        if not containers:
            return ""
        logs = [containers[0] / name for name in ("stderr", "stdout")]
        return "\n".join(log.read_text(errors="replace") for log in logs if log.is_file())
