"""Class-data sharing for local drivers: a JVM maps the classes a job loads from an archive instead
of reading and verifying them from the jars at every start (README "Performance", S7).

`spark.cds_dir` (local config) holds one archive per JVM and class path: its name is a digest of the
`java` executable, pyspark's version and every jar on the driver's class path with its size and
modification time, so a new jar or JDK never meets an archive recorded for others (the JVM would
refuse it anyway, with a warning). `build_archive` records one (`lakehouse-cds`, run by `make setup`)
from `lakehouse.spark.cds_training`, a small job over a temporary lake, run by spark-submit with
`-XX:ArchiveClassesAtExit`. `java_options` is what a local driver then starts with; none when
sharing is off (`cds_dir: null`, every cluster), the master is not local, or no archive exists.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from lakehouse.config import Config

log = logging.getLogger(__name__)

TRAINING_SCRIPT = Path(__file__).with_name("cds_training.py")


def archive_path(cfg: Config, class_path: list[str]) -> Optional[Path]:
    """Where the archive for this JVM and `class_path` lives; None when sharing does not apply."""
    if not cfg.spark.cds_dir or not (cfg.spark.master or "").startswith("local"):
        return None
    java = _java_executable()
    if java is None:
        return None
    import pyspark

    digest = hashlib.sha256()
    for entry in [java, f"pyspark {pyspark.__version__}", *class_path]:
        digest.update(_fingerprint(entry).encode())
    return Path(cfg.spark.cds_dir) / f"spark-{pyspark.__version__}-{digest.hexdigest()[:16]}.jsa"


def java_options(cfg: Config, class_path: list[str]) -> list[str]:
    """The driver's JVM options that map the archive, when there is one for this JVM and class path."""
    path = archive_path(cfg, class_path)
    if path is None or not path.is_file():
        return []
    return [f"-XX:SharedArchiveFile={path}"]


def build_archive(cfg: Config, config_args: Sequence[str]) -> Optional[Path]:
    """Records the archive for `cfg`'s local driver if missing; returns its path (None: not applicable).
    `config_args` are the flags `cfg` was loaded with (`--env`, `--conf-dir`, `--set`), for the training job.

    The training job runs against a temporary lake (no service, no secret needed); its JVM writes the archive
    at exit to a temporary name, renamed into place only once complete.
    """
    from lakehouse.runtime.executables import spark_submit_env, spark_submit_executable
    from lakehouse.spark.session import driver_class_path, spark_submit_args

    path = archive_path(cfg, driver_class_path(cfg))
    if path is None:
        log.info("class-data sharing does not apply (spark.cds_dir unset, no java, or not a local master)")
        return None
    if path.is_file():
        log.info("class-data sharing archive up to date: %s", path)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    argv = [spark_submit_executable(), *spark_submit_args(cfg, java_options=[f"-XX:ArchiveClassesAtExit={partial}"]),
            str(TRAINING_SCRIPT), *config_args]
    log.info("recording the class-data sharing archive %s (a small job over a temporary lake, about a minute)", path)
    with tempfile.TemporaryDirectory(prefix="lakehouse-cds-") as folder:
        # Nothing it needs runs yet (`make setup` comes before the services): no S3 endpoint, no metrics.
        local_only = [f"lake.root={folder}/lake", f"lake.checkpoint_root={folder}/checkpoints", "s3.endpoint=null",
                      "metrics.enabled=false"]
        done = subprocess.run([*argv, *(f"--set={value}" for value in local_only)],
                              env=spark_submit_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"recording the class-data sharing archive failed (exit {done.returncode}):\n"
                           + "\n".join(line for line in done.stdout.splitlines() if "[cds]" not in line)[-4000:])
    partial.replace(path)
    for stale in path.parent.glob("spark-*.jsa"):  # archives of jars or JDKs no longer in use
        if stale != path:
            stale.unlink()
    return path


def _java_executable() -> Optional[str]:
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    return os.path.realpath(java) if java and os.path.exists(java) else None


def _fingerprint(entry: str) -> str:
    try:
        stat = os.stat(entry)
    except OSError:
        return entry
    return f"{entry}:{stat.st_size}:{stat.st_mtime_ns}"
