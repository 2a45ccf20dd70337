"""The queries of one job: a query that fails leaves the others running to their end, and the run
then fails naming it."""
from __future__ import annotations

import time

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
    run.queries.append(start(spark, good, slow_copy, "copy <- good", str(tmp_path / "cp-good")))
    run.queries.append(start(spark, broken, fail, "fail <- broken", str(tmp_path / "cp-broken")))
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
