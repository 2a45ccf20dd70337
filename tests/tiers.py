"""Test tiers, and the time each took, printed at the end of the run.

A test is in one tier: `deploy` (marked deploy), `slow` (marked slow), `unit` (under tests/unit) or
`fast` (the rest). `make test-unit` runs the unit tier, `make test-fast` unit + fast (no process-level
end-to-end runs), `make test` all four.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

TIERS = ("unit", "fast", "slow", "deploy")
UNIT_DIR = Path(__file__).resolve().parent / "unit"

_tier_of_test: dict[str, str] = {}
_seconds = Counter()
_tests = Counter()


def tier_of(item: pytest.Item) -> str:
    for marker in ("deploy", "slow"):
        if item.get_closest_marker(marker):
            return marker
    return "unit" if UNIT_DIR in Path(item.path).parents else "fast"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _tier_of_test.update({item.nodeid: tier_of(item) for item in items})


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    tier = _tier_of_test.get(report.nodeid)
    if tier is None:
        return
    _seconds[tier] += report.duration
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _tests[tier] += 1


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{seconds % 60:04.1f}s"


def pytest_terminal_summary(terminalreporter) -> None:
    ran = [tier for tier in TIERS if _tests[tier]]
    if not ran:
        return
    terminalreporter.section("time per tier")
    for tier in ran:
        terminalreporter.write_line(f"{tier:<7} {_tests[tier]:>4} tests  {minutes(_seconds[tier]):>9}")
