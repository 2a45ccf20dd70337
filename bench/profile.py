"""`--event-logs`: Spark event logs of every job of the run, and where each job spent its time.

Stage times are summed by stage name (the call site that started them), so a job's costly steps
(the Kafka read, the state store, a MERGE's scan, a JDBC read) stand out. Diagnostic only: the
figures of a run with event logs on are not compared with anything.
"""
from __future__ import annotations

import json
from pathlib import Path


def event_log_overrides(folder: Path) -> tuple[str, ...]:
    folder.mkdir(parents=True, exist_ok=True)
    return ("spark.conf.spark.eventLog.enabled=true", f"spark.conf.spark.eventLog.dir={folder}")


def stage_summary(event_log: Path, top: int = 10) -> list[tuple[str, int, float]]:
    """(stage name, stages, seconds) of the costliest stage names in one event log."""
    totals: dict[str, list] = {}
    with open(event_log) as events:
        for line in events:
            event = json.loads(line)
            if event.get("Event") != "SparkListenerStageCompleted":
                continue
            info = event["Stage Info"]
            seconds = (info.get("Completion Time", 0) - info.get("Submission Time", 0)) / 1000
            entry = totals.setdefault(info["Stage Name"], [0, 0.0])
            entry[0] += 1
            entry[1] += seconds
    ranked = sorted(totals.items(), key=lambda item: -item[1][1])[:top]
    return [(name, count, seconds) for name, (count, seconds) in ranked]


def print_summaries(folder: Path) -> None:
    for event_log in sorted(folder.iterdir()):
        app = _app_name(event_log)
        print(f"\n{app} ({event_log.name}): costliest stages")
        for name, count, seconds in stage_summary(event_log):
            print(f"  {seconds:8.1f}s  x{count:<4d} {name[:100]}")


def _app_name(event_log: Path) -> str:
    with open(event_log) as events:
        for line in events:
            event = json.loads(line)
            if event.get("Event") == "SparkListenerApplicationStart":
                return event.get("App Name", "")
    return ""
