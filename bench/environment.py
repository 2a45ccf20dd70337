"""What a result depends on besides the code: the machine, the versions and the config of the run."""
from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys

from bench.harness import ROOT

PACKAGES = ("pyspark", "delta-spark", "deltalake", "pyarrow", "confluent-kafka", "orjson", "connectorx", "psycopg",
            "psutil")


def machine(ctx) -> dict:
    import psutil

    model = ""
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    return {
        "platform": platform.platform(),
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_end": os.getloadavg(),
        "load_average_at_start": ctx.shared.get("load_at_start"),
    }


def versions(ctx) -> dict:
    found = {"python": sys.version.split()[0]}
    for package in PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    try:
        import confluent_kafka

        found["librdkafka"] = confluent_kafka.libversion()[0]
    except ImportError:
        pass
    found["spark_jars"] = sorted(p.name for p in (ROOT / ".local" / "jars" / "spark").glob("*.jar"))
    found["kafka_broker"] = sorted(p.name for p in (ROOT / ".local" / "jars" / "kafka-broker").glob("kafka_*.jar"))
    found["java"] = _command(["java", "-version"])
    found["postgres"] = _postgres_version(ctx)
    found["git_commit"] = _command(["git", "-C", str(ROOT), "rev-parse", "HEAD"])
    found["git_dirty"] = bool(_command(["git", "-C", str(ROOT), "status", "--porcelain"]))
    return found


def config_summary(ctx) -> dict:
    """The run's overrides and the effective config sections the jobs' speed depends on."""
    cfg = ctx.cfg
    return {
        "env": cfg.env,
        "base_overrides": ctx.base_overrides,
        "job_overrides": list(ctx.job_overrides),
        "spark": {"master": cfg.spark.master, "shuffle_partitions": cfg.spark.shuffle_partitions,
                  "driver_memory": cfg.spark.driver_memory, "conf": cfg.spark.conf},
        "streaming": {"max_offsets_per_trigger": cfg.streaming.max_offsets_per_trigger,
                      "min_partitions": cfg.streaming.min_partitions,
                      "silver_max_files_per_trigger": cfg.streaming.silver_max_files_per_trigger,
                      "producer": vars(cfg.streaming.producer)},
    }


def _command(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else ""


def _postgres_version(ctx) -> str:
    try:
        from lakehouse.sources.postgres import connect

        with connect(ctx.cfg.postgres, "lakehouse-bench") as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # the version is informative; a missing server shows up in S6 already
        return f"unknown ({type(exc).__name__})"
