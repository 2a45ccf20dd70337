"""tests/lanes.py, the two-lane `make test`: which arguments split the suite and how the lanes' statuses add up."""
from __future__ import annotations

import pytest

from tests.lanes import NO_TESTS, combined_status, names_paths


@pytest.mark.parametrize("args", [["tests/unit"], ["-x", "tests/deploy/test_release_on_emr.py::test_a"],
                                  ["tests/unit/test_lanes.py"]])
def test_arguments_naming_test_paths_run_one_pytest(args):
    assert names_paths(args)


@pytest.mark.parametrize("args", [[], ["-m", "slow"], ["-k", "erasure", "-x"], ["-m", "not slow and not deploy"]])
def test_options_alone_split_the_suite_into_lanes(args):
    assert not names_paths(args)


@pytest.mark.parametrize(("statuses", "expected"), [
    ((0, 0), 0),
    ((1, 0), 1),
    ((0, 2), 2),
    ((NO_TESTS, 0), 0),          # -m deploy: the main lane has nothing to run
    ((0, NO_TESTS), 0),
    ((NO_TESTS, NO_TESTS), NO_TESTS),
    ((NO_TESTS, 1), 1),
])
def test_the_run_fails_when_a_lane_fails_and_not_for_a_lane_without_tests(statuses, expected):
    assert combined_status(*statuses) == expected
