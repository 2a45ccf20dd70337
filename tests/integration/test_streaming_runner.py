"""The queries of one job: a query that fails leaves the others running to their end, and the run
then fails naming it; one that fails on a Delta commit conflict is started again from its checkpoint."""
from __future__ import annotations

import time

import pytest

from lakehouse.streaming import runner
from lakehouse.streaming.conflicts import is_commit_conflict
from lakehouse.streaming.runner import QueriesFailedError, StreamingRun

GOOD_FILES = 5


def write_files(spark, path: str, files: int) -> None:
    for number in range(files):
        spark.createDataFrame([(number, "a"), (number, None)], "n int, note string") \
            .coalesce(1).write.format("delta").mode("append").save(path)


def start(spark, source: str, handler, name: str, checkpoint: str):
    return (spark.readStream.format("delta").option("maxFilesPerTrigger", 1).load(source)
            .writeStream.foreachBatch(handler).queryName(name)
            .option("checkpointLocation", checkpoint).trigger(availableNow=True).start())


def test_a_failing_query_leaves_the_others_running_to_their_end(spark, cfg, tmp_path):
    good, broken, copy = (str(tmp_path / name) for name in ("good", "broken", "copy"))
    write_files(spark, good, GOOD_FILES)
    write_files(spark, broken, 1)

    def slow_copy(batch_df, batch_id):
        time.sleep(1.0)  # the broken query fails long before this one is done
        batch_df.write.format("delta").mode("append").save(copy)

    def fail(batch_df, batch_id):
        raise ValueError("the handler refuses every batch")

    run = StreamingRun(spark, cfg)
    run.start(lambda: start(spark, good, slow_copy, "copy <- good", str(tmp_path / "cp-good")))
    run.start(lambda: start(spark, broken, fail, "fail <- broken", str(tmp_path / "cp-broken")))
    try:
        run.wait(until_all_done=True)
        failure = None
    except Exception as error:  # checked below, after what the good query did
        failure = error

    print(f"{type(failure).__name__}: {failure}")
    assert spark.read.format("delta").load(copy).count() == 2 * GOOD_FILES, "the good query read every file"
    assert not any(query.isActive for query in run.queries)
    assert isinstance(failure, QueriesFailedError)
    assert "1 of 2 queries failed: fail <- broken:" in str(failure)
    assert "copy <- good" not in str(failure)
    assert run.restarts == {}  # not a commit conflict: not started again


CONFLICT = ("[DELTA_METADATA_CHANGED] MetadataChangedException: The metadata of the Delta table has been "
            "changed by a concurrent update. Please try the operation again.")


@pytest.mark.parametrize(("text", "conflict"), [
    (CONFLICT, True),
    ("[DELTA_CONCURRENT_APPEND] ConcurrentAppendException: Files were added to the root of the table", True),
    ("io.delta.exceptions.ConcurrentDeleteReadException: This transaction attempted to read", True),
    ("[DELTA_CONCURRENT_TRANSACTION] ConcurrentTransactionException: another run of this query", False),
    ("ValueError: the handler refuses every batch", False),
    ("NotAMetadataChangedExceptionAtAll", False),
])
def test_only_delta_commit_conflicts_are_restarted(text, conflict):
    assert is_commit_conflict(RuntimeError(text)) is conflict
    assert not is_commit_conflict(None)


def conflicting(times: int, path: str):
    """A handler whose first `times` batches fail with a commit conflict's text, then write."""
    failures = []

    def handle(batch_df, batch_id):
        if len(failures) < times:
            failures.append(batch_id)
            raise RuntimeError(CONFLICT)
        batch_df.write.format("delta").mode("append").save(path)
    return handle


def test_a_query_failing_on_a_commit_conflict_is_restarted_from_its_checkpoint(spark, cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "RESTART_BACKOFF_S", 0.05)
    source, copy = str(tmp_path / "source"), str(tmp_path / "copy")
    write_files(spark, source, 3)
    run = StreamingRun(spark, cfg)
    handler = conflicting(2, copy)
    first = run.start(lambda: start(spark, source, handler, "copy <- source", str(tmp_path / "cp")))
    run.wait(until_all_done=True)

    (last,) = run.queries
    assert run.restarts == {"copy <- source": 2}
    assert (last.id, last.runId != first.runId) == (first.id, True)  # same checkpoint, new run
    assert spark.read.format("delta").load(copy).count() == 2 * 3  # every file once


def test_restarts_in_a_row_are_bounded(spark, cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "RESTART_BACKOFF_S", 0.05)
    monkeypatch.setattr(runner, "RESTARTS", 2)
    source = str(tmp_path / "source")
    write_files(spark, source, 1)
    run = StreamingRun(spark, cfg)
    handler = conflicting(100, str(tmp_path / "copy"))
    run.start(lambda: start(spark, source, handler, "copy <- source", str(tmp_path / "cp")))
    with pytest.raises(QueriesFailedError, match="1 of 1 queries failed: copy <- source"):
        run.wait(until_all_done=True)
    assert run.restarts == {"copy <- source": 2}


def test_a_run_left_open_takes_more_queries_and_a_failure_still_ends_it(spark, cfg, tmp_path):
    first, second, broken, copy = (str(tmp_path / name) for name in ("first", "second", "broken", "copy"))
    for path in (first, second, broken):
        write_files(spark, path, 1)

    def append(batch_df, batch_id):
        batch_df.write.format("delta").mode("append").save(copy)

    def fail(batch_df, batch_id):
        raise ValueError("the handler refuses every batch")

    run = StreamingRun(spark, cfg)
    run.start(lambda: start(spark, first, append, "copy <- first", str(tmp_path / "cp-first")))
    run.wait(until_all_done=True, end=False)
    assert run.listeners, "still open"
    assert not run.stopped
    run.start(lambda: start(spark, second, append, "copy <- second", str(tmp_path / "cp-second")))
    run.wait(until_all_done=True, end=False)
    assert spark.read.format("delta").load(copy).count() == 2 * 2

    run.start(lambda: start(spark, broken, fail, "fail <- broken", str(tmp_path / "cp-broken")))
    with pytest.raises(QueriesFailedError, match="1 of 3 queries failed: fail <- broken"):
        run.wait(until_all_done=True, end=False)
    assert not run.listeners, "a failure ends the run"
    assert run.stopped


def test_queries_started_in_starts_deferred_start_when_it_ends_in_their_order(spark, cfg, tmp_path):
    good = str(tmp_path / "good")
    write_files(spark, good, 1)
    run = StreamingRun(spark, cfg)
    started = []

    def starter(name: str):
        def start_query():
            started.append(name)
            return start(spark, good, lambda batch_df, batch_id: None, name, str(tmp_path / f"cp-{name}"))
        return start_query

    with run.starts_deferred():
        run.start(starter("first"))
        run.start(starter("second"))
        assert (started, run.queries) == ([], [])  # the start-ups inside run first

    assert started == ["first", "second"]
    run.wait(until_all_done=True)
    assert [query.name for query in run.queries] == ["first", "second"]


@pytest.mark.parametrize("ends", ["failing", "stopped"])
def test_a_block_that_fails_or_a_run_stopped_meanwhile_starts_none_of_its_queries(spark, cfg, tmp_path, ends):
    run = StreamingRun(spark, cfg)
    started = []
    try:
        with run.starts_deferred():
            run.start(lambda: started.append("query"))
            if ends == "failing":
                raise ValueError("the second start-up fails")
            run.stop()  # e.g. by the driver's SIGTERM handler, while the start-ups ran
    except ValueError:
        pass
    finally:
        run.stop()

    assert (started, run.queries) == ([], [])
