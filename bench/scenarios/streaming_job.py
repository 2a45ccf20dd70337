"""The streaming jobs' driver in S1, S2 (available-now), S3, S5 and S7 (always-on), run by spark-submit:
kafka_to_bronze, bronze_to_silver or both in one driver (kafka_to_silver), started and run as the job
does, with its start-up and micro-batches timed (bench.job_phases).

As they happen (the process is killed with SIGKILL in S7), JSON lines go to `--phases-out`: the
process's start and its imports, the SparkSession ready, the start-up's record (lakehouse.ops.phases:
checkpoint lock, tables, start position, query start), every micro-batch's progress (Spark's
durations), for silver each batch's handler record, and the end (queries done, SparkSession stopped).

    spark-submit ... bench/scenarios/streaming_job.py --env local --set ... \
        --job kafka_to_bronze --phases-out phases.jsonl <the job's flags>
"""
from __future__ import annotations

import time

STARTED_AT = time.time()  # before the imports: they are part of the start-up

import sys  # noqa: E402

from bench.stream_events import Events, ProgressEvents  # noqa: E402
from jobs.streaming import bronze_to_silver, kafka_to_bronze, kafka_to_silver  # noqa: E402
from lakehouse.ops import phases  # noqa: E402
from lakehouse.ops.metrics import publisher  # noqa: E402
from lakehouse.runtime.entrypoint import configure_logging, parse_config  # noqa: E402
from lakehouse.spark import build_spark, stop_spark  # noqa: E402
from lakehouse.streaming.bronze import start_bronze  # noqa: E402
from lakehouse.streaming.options import bronze_options, pipeline_options, silver_options  # noqa: E402
from lakehouse.streaming.pipeline import start_always_on  # noqa: E402
from lakehouse.streaming.runner import StreamingRun  # noqa: E402
from lakehouse.streaming.silver import start_silver  # noqa: E402

JOBS = {
    "kafka_to_bronze": (kafka_to_bronze, bronze_options, start_bronze),
    "bronze_to_silver": (bronze_to_silver, silver_options, start_silver),
    "kafka_to_silver": (kafka_to_silver, pipeline_options, None),  # start_layers
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    job, out = _take(argv, "--job"), _take(argv, "--phases-out")
    module, parse_options, start = JOBS[job]
    events = Events(out)
    events.write("process", started_at=STARTED_AT)
    configure_logging()
    cfg, args = parse_config(module.__doc__, argv, module.add_arguments)
    spark = build_spark(cfg, job)
    events.write("spark_ready")
    try:
        spark.streams.addListener(ProgressEvents(events))
        phases.install(lambda record: events.write("record", **record))
        options = parse_options(cfg, args)
        if start is None:
            run = start_layers(spark, cfg, *options)
        else:
            with phases.batch("start", -1):
                run = start(spark, cfg, options)
        trigger = (options[0] if isinstance(options, tuple) else options).trigger
        run.wait(until_all_done=trigger.runs_to_completion)
        events.write("queries_done")
    finally:
        stop_spark(spark)
        events.write("spark_stopped")
    return 0


def start_layers(spark, cfg, bronze, silver):
    """kafka_to_silver's always-on start (lakehouse.streaming.pipeline.start_always_on), in a new run."""
    run = StreamingRun(spark, cfg, publisher(cfg))
    start_always_on(spark, cfg, bronze, silver, run)
    return run


def _take(argv: list[str], flag: str) -> str:
    at = argv.index(flag)
    value = argv[at + 1]
    del argv[at:at + 2]
    return value


if __name__ == "__main__":
    sys.exit(main())
