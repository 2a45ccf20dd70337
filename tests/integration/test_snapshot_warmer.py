"""An always-on query's tables have their state built between batches, not by the next batch's write."""
from __future__ import annotations

import time
from types import SimpleNamespace

from lakehouse.sinks.delta import _snapshot, build_latest_state, last_txn_version
from lakehouse.streaming.runner import StreamingRun
from lakehouse.streaming.warm import SnapshotWarmer

WAIT_S = 120.0


def state_built(spark, path: str) -> bool:
    """Whether Delta reconstructed the state of the table's latest version (what a write's txnVersion reads)."""
    return bool(_snapshot(spark, path)._computedStateTriggered())


def start_rate_to_delta(spark, run: StreamingRun, name: str, path: str, checkpoint: str, trigger: str):
    return run.start(lambda: (
        spark.readStream.format("rate").option("rowsPerSecond", 5).load()
        .writeStream.format("delta").queryName(name).option("checkpointLocation", checkpoint)
        .trigger(processingTime=trigger).start(path)
    ))


def stop_after_second_batch(query) -> None:
    """Stops the query once a batch after its first has reported its progress (so committed in full),
    well before its next trigger."""
    deadline = time.monotonic() + WAIT_S
    while not (query.lastProgress and query.lastProgress["batchId"] >= 1 and query.lastProgress["numInputRows"]):
        assert query.exception() is None, query.exception()
        assert time.monotonic() < deadline, f"{query.name}: no second batch within {WAIT_S:.0f} s"
        time.sleep(0.05)
    query.stop()


def test_a_watched_query_finds_its_tables_state_built_after_each_batch(spark, cfg, tmp_path):
    watched, unwatched = str(tmp_path / "watched"), str(tmp_path / "unwatched")
    run = StreamingRun(spark, cfg)
    try:
        run.snapshot_warmer.watch("warmed", [watched])
        warmed = start_rate_to_delta(spark, run, "warmed", watched, str(tmp_path / "cp_watched"), "2 seconds")
        plain = start_rate_to_delta(spark, run, "plain", unwatched, str(tmp_path / "cp_unwatched"), "10 seconds")
        stop_after_second_batch(warmed)
        deadline = time.monotonic() + WAIT_S
        while not state_built(spark, watched):  # only the warm-up can build it now: the query is stopped
            assert time.monotonic() < deadline, f"{watched}: latest state not built after its last batch"
            time.sleep(0.1)
        stop_after_second_batch(plain)
        time.sleep(3)
        assert not state_built(spark, unwatched), "the unwatched table's state was built after its last batch"
    finally:
        run.stop()
    worker = run.snapshot_warmer._worker
    assert worker is not None, "no warm-up ran"
    assert not worker.is_alive(), "the warm-up thread outlived its run"


def test_building_a_tables_state_is_what_a_write_with_a_transaction_id_reads(spark, tmp_path):
    path = str(tmp_path / "table")
    spark.range(3).write.format("delta").option("txnAppId", "app").option("txnVersion", 0).save(path)
    assert not state_built(spark, path)
    build_latest_state(spark, path)
    assert state_built(spark, path)
    assert last_txn_version(spark, path, "app") == 0


def test_a_failed_idle_check_costs_one_warm_up_and_the_worker_goes_on(spark, tmp_path, monkeypatch):
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    for path in (first, second):
        spark.range(3).write.format("delta").option("txnAppId", "app").option("txnVersion", 0).save(path)
    context, checks = spark.sparkContext, []

    def tracker_failing_once():
        checks.append(1)
        if len(checks) == 1:
            raise RuntimeError("the driver's status tracker is gone")
        return type(context).statusTracker(context)

    monkeypatch.setattr(context, "statusTracker", tracker_failing_once)
    warmer = SnapshotWarmer(spark)
    try:
        warmer.watch("first", [first])
        warmer.watch("second", [second])
        warmer.onQueryProgress(progress_event("first"))
        deadline = time.monotonic() + WAIT_S
        while not checks:
            assert time.monotonic() < deadline, "the worker never checked for running jobs"
            time.sleep(0.05)
        warmer.onQueryProgress(progress_event("second"))
        while not state_built(spark, second):
            assert time.monotonic() < deadline, "the warm-up after a failed idle check never ran"
            time.sleep(0.1)
    finally:
        warmer.close()
    assert not state_built(spark, first)


def progress_event(query: str):
    """What the warmer reads of a query's progress event: its name and input rows."""
    return SimpleNamespace(progress=SimpleNamespace(name=query, numInputRows=3))
