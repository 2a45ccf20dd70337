"""`make demo` end to end: the console script runs every step on the local stack and summarises."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT


@pytest.mark.slow
def test_demo_runs_every_step_and_prints_a_summary(tmp_path, kafka_service, postgres_service, s3_service):
    demo = [sys.executable, "-m", "lakehouse_jobs.tools.demo", "--env", "local",
            "--set", f"lake.root={tmp_path}/lake", "--set", f"lake.checkpoint_root={tmp_path}/checkpoints"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE__")}
    result = subprocess.run(demo, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Summary:" in result.stdout
    summary = dict(line.strip().split(": ", 1) for line in result.stdout.split("Summary:")[1].splitlines()
                   if ": " in line)
    bronze = sum(int(summary[f"bronze.{topic}"]) for topic in ("user_events", "transaction_events", "system_metrics"))
    assert bronze == int(summary["produced"])  # every record produced by this run, once
    assert int(summary["quarantine.user_events"]) > 0
    assert int(summary["flagged transactions"]) > 0
    assert 0 < int(summary["silver.user_events"]) < int(summary["bronze.user_events"])
