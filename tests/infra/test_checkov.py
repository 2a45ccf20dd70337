"""checkov over infra/, offline (no module downloads, no Prisma Cloud look-ups): every finding is either
fixed or listed with its reason in infra/checkov-accepted.yaml, and every listed one still occurs.

checkov runs from its own venv, .local/checkov (`make checkov`, part of `make setup`): its exact pins
clash with the project's. It reads the HCL statically, so it needs no provider download (which these
machines cannot make: `terraform validate` and `plan` cannot run here)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.infra.test_terraform import INFRA

CHECKOV = PROJECT_ROOT / ".local" / "checkov" / "bin" / "checkov"
ACCEPTED = INFRA / "checkov-accepted.yaml"


def checkov_findings() -> set[tuple[str, str]]:
    if not CHECKOV.is_file():
        pytest.fail(f"checkov is needed for this check: run `make checkov` (installs it into {CHECKOV.parent.parent})")
    result = subprocess.run(
        [str(CHECKOV), "--directory", str(INFRA), "--framework", "terraform", "--download-external-modules", "false",
         "--skip-download", "--output", "json"],
        capture_output=True, text=True, timeout=240, check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]   # 1: some check failed
    report = json.loads(result.stdout)
    (terraform,) = report if isinstance(report, list) else [report]
    assert terraform["summary"]["parsing_errors"] == 0, terraform["results"].get("parsing_errors")
    assert terraform["summary"]["resource_count"] > 50   # it read the modules, not an empty folder
    return {(finding["check_id"], finding["resource"]) for finding in terraform["results"]["failed_checks"]}


@pytest.mark.timeout(300)
def test_every_checkov_finding_is_fixed_or_accepted_with_a_reason():
    accepted = yaml.safe_load(ACCEPTED.read_text())["accepted"]
    for entry in accepted:
        assert entry.get("reason", "").strip(), entry
    listed = {(entry["check"], entry["resource"]) for entry in accepted}
    assert len(listed) == len(accepted), "an entry is listed twice"
    findings = checkov_findings()
    assert sorted(findings - listed) == [], f"new checkov findings: fix them, or accept them in {ACCEPTED.name}"
    assert sorted(listed - findings) == [], f"no longer found: remove them from {ACCEPTED.name}"
