"""bench/run.py's flags: a malformed one is refused before anything starts."""
from __future__ import annotations

import pytest

from bench.context import BenchContext
from bench.run import parse_args
from bench.sizes import sizes_for


def test_job_set_overrides_reach_every_job_of_the_run(tmp_path):
    args, selected, _ = parse_args(["--only", "s3,s7", "--job-set", "spark.conf.spark.scheduler.mode=FIFO"])
    ctx = BenchContext(sizes_for(True), True, work_dir=tmp_path, job_sets=args.job_set)
    assert selected == ["S3", "S7"]
    assert ctx.overrides("always_on")[-1] == "spark.conf.spark.scheduler.mode=FIFO"


@pytest.mark.parametrize("text", ["spark.conf.spark.scheduler.mode", "=FIFO"])
def test_a_job_set_without_key_and_value_is_refused(text, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--job-set", text])
    assert "expected KEY=VALUE" in capsys.readouterr().err
