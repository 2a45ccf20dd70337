"""A test run stopped by a signal ends as Ctrl-C ends it, a pytest plugin (tests/conftest.py loads it).

Killed outright by SIGTERM (a CI job cancelled or timed out), pytest would leave running what the
session's fixtures started: local services, the YARN mini cluster, the AWS stand-in, spark-submit.
Raised as KeyboardInterrupt instead, the session ends "interrupted" and tears its fixtures down. So
does SIGINT, also when the run inherited it ignored (started in the background by a non-interactive
shell, as CI may). Only the first SIGTERM does: later ones are ignored, so they cannot cut the
teardown short (SIGKILL still ends it). Airflow's in-process task runner (the DAG tests' `dag.test()`)
replaces SIGTERM's handler with its own and keeps it, so `make test`'s lanes (tests.lanes) send SIGINT.
"""
from __future__ import annotations

import signal


def pytest_configure(config) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}: tearing the session's fixtures down")
