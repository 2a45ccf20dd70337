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


@pytest.mark.parametrize(("text", "error"), [
    ("spark.conf.spark.scheduler.mode", "expected KEY=VALUE"),
    ("=FIFO", "expected KEY=VALUE"),
    ("spark.scheduler_mode=FIFO", "spark.scheduler_mode: unknown key"),
    ("streaming.max_offsets_per_trigger=many", "streaming.max_offsets_per_trigger: expected int"),
])
def test_a_job_set_the_jobs_would_refuse_is_refused_before_the_run(text, error, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--job-set", text])
    assert error in capsys.readouterr().err
