"""The lineage listener (lakehouse.lineage.FilteredLineageListener, jars/udf, in front of OpenLineage's)
leaves out the Spark actions run inside `lakehouse.lineage.skip.unreported` and reports the rest: a
real driver process with the listener, its events read back from the file transport."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lakehouse.lineage.datasets import lake_dataset
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow


@pytest.mark.timeout(300)
def test_actions_inside_unreported_produce_no_events_and_table_writes_after_it_do(tmp_path):
    events_file = tmp_path / "events.jsonl"
    done = subprocess.run([sys.executable, "-m", "tests.integration.lineage_filter_job", str(events_file),
                           str(tmp_path / "tables")], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-4000:]

    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    reported, skipped = (tuple(lake_dataset(str(tmp_path / "tables" / name))) for name in ("reported", "skipped"))
    named = [{(d["namespace"], d["name"]) for d in e["inputs"] + e["outputs"]} for e in events]
    assert any(reported in datasets for datasets in named), "the write after the block is reported"
    assert not any(skipped in datasets for datasets in named), "nothing inside the block is"
    assert {e["eventType"] for e, datasets in zip(events, named) if reported in datasets} == {"START", "COMPLETE"}
