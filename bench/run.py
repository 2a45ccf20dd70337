"""The benchmark: our jobs (S1..S10), the baselines (B1, B2, C0, C1) and Spark's floor under our whole-run
figures (F1, F2, F6), measured in one run on one machine.

    make bench                     # the issue's sizes (5M events, 5M-row table, minutes of freshness)
    make bench QUICK=1             # tiny sizes, every scenario: a few minutes (the test suite runs it)
    .venv/bin/python bench/run.py --only S1,B1 --size events=500000

Prints a table of figures, each with its baseline, the ratio and the goal, and writes it all to
bench/results/<run id>.json with the machine, the versions and the sizes. Starts the local services
that are not running (Kafka, Postgres, S3) and stops, at the end, only those it started.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import traceback
from pathlib import Path

# The repository root instead of bench/ itself: bench/profile.py must not shadow the standard library's
# profile module, which pyspark imports (loading the config imports the contracts, and so pyspark).
sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.context import BenchContext
from bench.cpu_profile import ProfilerMissing, agent_library, print_cpu_summaries
from bench.harness import ROOT, say
from bench.profile import print_summaries
from bench.report import print_table, write_json
from bench.sizes import parse_override, sizes_for
from bench.steps import IDS, STEPS


def parse_args(argv):
    from lakehouse.config import ConfigError, load_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: every scenario in a few minutes")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(IDS)}")
    parser.add_argument("--size", action="append", default=[], metavar="NAME=VALUE",
                        help="override one size, e.g. --size events=500000 (see bench/sizes.py)")
    parser.add_argument("--out", help="results folder (default bench/results)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the run's lake and checkpoints (topics and the Postgres schema are always dropped)")
    parser.add_argument("--event-logs", action="store_true",
                        help="Spark event logs for every job, and each job's costliest stages at the end")
    parser.add_argument("--cpu-profile", type=_positive_seconds, metavar="SECONDS",
                        help="sample every job's JVM, thread by thread, for its first SECONDS (async-profiler), "
                             "and print each one's CPU by kind of thread at the end")
    parser.add_argument("--job-set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for every job of the run, as a job's --set, e.g. "
                             "--job-set spark.conf.spark.scheduler.mode=FIFO")
    args = parser.parse_args(argv)
    selected = IDS if not args.only else [part.strip().upper() for part in args.only.split(",") if part.strip()]
    unknown = sorted(set(selected) - set(IDS))
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(IDS)}")
    try:
        overrides = dict(parse_override(text) for text in args.size)
    except ValueError as exc:
        parser.error(str(exc))
    bad = [text for text in args.job_set if "=" not in text or not text.partition("=")[0]]
    if bad:
        parser.error(f"--job-set {bad[0]!r}: expected KEY=VALUE, e.g. spark.conf.spark.scheduler.mode=FIFO")
    try:
        load_config("local", ROOT / "conf", args.job_set)
    except ConfigError as exc:
        parser.error(f"--job-set: {exc}")
    if args.cpu_profile:
        try:
            agent_library()
        except ProfilerMissing as exc:
            parser.error(str(exc))
    return args, [i for i in IDS if i in selected], overrides


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return seconds


def main(argv=None) -> int:
    from lakehouse.services import stack

    args, selected, overrides = parse_args(argv)
    ctx = BenchContext(sizes_for(args.quick, overrides), args.quick, keep=args.keep, event_logs=args.event_logs,
                       job_sets=args.job_set, cpu_profile_s=args.cpu_profile)
    say("local services: starting those not running (kafka, postgres, s3)")
    services = stack.up(ctx.cfg)
    say(f"local services: started {', '.join(services) or 'none'}")
    try:
        return _run(args, selected, ctx)
    finally:
        stack.down(ctx.cfg, services)


def _run(args, selected, ctx: BenchContext) -> int:
    started = time.time()
    ctx.shared["load_at_start"] = os.getloadavg()
    say(f"benchmark run {ctx.run_id} ({'quick' if args.quick else 'full'} sizes): {', '.join(selected)}")
    try:
        for step in STEPS:
            wanted = [i for i in step.ids if i in selected]
            if not wanted:
                continue
            say(f"== {step.title} ({', '.join(wanted)})")
            step_started, cpu_before = time.monotonic(), _children_cpu_s()
            try:
                step.run(ctx, wanted)
            except Exception as exc:
                for key in wanted:
                    ctx.results.errors.setdefault(key, f"{type(exc).__name__}: {exc}")
                say(f"!! {step.title} failed: {type(exc).__name__}: {exc}")
                traceback.print_exc(file=sys.stdout)
            ctx.step_seconds[step.title] = {"wall_s": time.monotonic() - step_started,
                                            "children_cpu_s": _children_cpu_s() - cpu_before}
            say(f"   {step.title}: {ctx.step_seconds[step.title]['wall_s']:.0f}s wall, "
                f"{ctx.step_seconds[step.title]['children_cpu_s']:.0f}s CPU in its processes")
    except KeyboardInterrupt:
        say("interrupted: cleaning up")
        raise
    finally:
        ctx.cleanup()
    if ctx.event_logs:
        print_summaries(ctx.event_logs)
    if ctx.cpu_profiles:
        print_cpu_summaries(ctx.cpu_profiles)
    rows = print_table(ctx, selected)
    path = write_json(ctx, selected, rows, started, Path(args.out) if args.out else None)
    say(f"results: {path} ({time.time() - started:.0f}s in all)")
    return 1 if ctx.results.errors else 0


def _children_cpu_s() -> float:
    """CPU seconds of every finished child process (and their waited-for descendants) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.exit(main())
