"""lakehouse.spark.beside: Spark work on a thread beside the caller's, with the caller's local properties."""
from __future__ import annotations

import threading

import pytest

from lakehouse.lineage.skip import SKIP_TAG, unreported
from lakehouse.sinks.delta import TXN_APP_ID, Txn, commit_options
from lakehouse.spark.beside import Beside, in_own_session


def test_the_work_runs_on_another_thread_and_its_value_is_returned(spark):
    caller = threading.get_ident()
    work = Beside(lambda: (threading.get_ident(), spark.range(5).count()), name="count")
    thread, rows = work.result()
    assert thread != caller
    assert rows == 5


def test_its_spark_jobs_carry_the_callers_job_group_and_tags(spark):
    context = spark.sparkContext
    context.setJobGroup("query-run-1", "a streaming query's micro-batch")
    try:
        with unreported(spark):
            seen = Beside(lambda: (context.getLocalProperty("spark.jobGroup.id"), context.getJobTags()),
                          name="props").result()
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
        context.setLocalProperty("spark.job.description", None)
    group, tags = seen
    assert group == "query-run-1", "stopping the query cancels its job group: the work's jobs must be in it"
    assert SKIP_TAG in tags, "lineage's skip tag must reach the work's jobs"


def test_a_failure_is_raised_by_result_and_join_waits_without_raising(spark):
    def fail():
        raise RuntimeError("quarantine MERGE failed")

    work = Beside(fail, name="fail")
    assert isinstance(work.join(), RuntimeError)
    with pytest.raises(RuntimeError, match="quarantine MERGE failed"):
        work.result()


def test_in_its_own_session_a_frame_keeps_its_rows_and_a_writes_options_stay_on_that_session(spark):
    rows = spark.range(3).localCheckpoint(eager=True)
    moved = in_own_session(rows)
    assert moved.sparkSession is not spark
    assert sorted(moved.collect()) == sorted(rows.collect())
    with commit_options(moved.sparkSession, Txn("quarantine-app", 4), None):
        assert spark.conf.get(TXN_APP_ID, None) is None, "the caller's next write would commit under this id"
        with commit_options(spark, Txn("silver-app", 4), None):
            assert moved.sparkSession.conf.get(TXN_APP_ID) == "quarantine-app"
        assert moved.sparkSession.conf.get(TXN_APP_ID) == "quarantine-app", "the caller's restore must not lift it"
