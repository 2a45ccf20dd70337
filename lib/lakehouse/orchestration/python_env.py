"""The jobs' Python dependencies on the cluster: one packed folder per release.

EMR's python3 brings pyspark and py4j with Spark and nothing else the jobs import. So a release
carries the rest: `requirements/cluster.txt` (every package pinned) installed by pip, wheels only,
for the cluster's Python version, glibc and CPU, into a folder packed as a tar.gz. Every step
unpacks it in its YARN containers (`--archives <uri>#pydeps`) and puts it first on PYTHONPATH, for
the driver and the executors alike. Nothing is installed on the nodes, nothing is downloaded by
the cluster, and each step runs with its own release's packages, also on a long-running cluster.
"""
from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from lakehouse.config import Config

LOCK_FILE = "requirements/cluster.txt"
ALIAS = "pydeps"              # the archive's folder in every container
OLDEST_MANYLINUX_MINOR = 17   # manylinux2014: older wheels are not worth a tag each


class PythonEnvError(RuntimeError):
    """The cluster's Python dependencies cannot be built."""


def archive_name(cfg: Config) -> str:
    """e.g. python-deps-cp39-aarch64.tar.gz: one archive per Python version and CPU."""
    return f"python-deps-cp{cfg.emr.python_version.replace('.', '')}-{cfg.emr.cluster.architecture}.tar.gz"


def platform_tags(glibc_version: str, architecture: str) -> list[str]:
    """The manylinux tags a node with this glibc can load, newest first (pip needs each one named)."""
    major, minor = (int(part) for part in glibc_version.split("."))
    if major != 2 or minor < OLDEST_MANYLINUX_MINOR:
        raise PythonEnvError(f"glibc {glibc_version}: expected 2.{OLDEST_MANYLINUX_MINOR} or later")
    return [f"manylinux_2_{m}_{architecture}" for m in range(minor, OLDEST_MANYLINUX_MINOR - 1, -1)]


def build_python_deps(cfg: Config, out_dir: Path) -> Path:
    """Installs the cluster's pinned requirements for its platform and packs them; returns the archive."""
    lock = Path(cfg.project_root, LOCK_FILE)
    if not lock.is_file():
        raise PythonEnvError(f"{lock} not found: the cluster's pinned requirements")
    python = cfg.emr.python_version
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / archive_name(cfg)
    with tempfile.TemporaryDirectory(prefix="lakehouse-pydeps-") as tmp:
        target = Path(tmp, ALIAS)
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
            "--only-binary=:all:", "--target", str(target), "--python-version", python,
            "--implementation", "cp", "--abi", f"cp{python.replace('.', '')}",
            *[arg for tag in platform_tags(cfg.emr.glibc_version, cfg.emr.cluster.architecture)
              for arg in ("--platform", tag)],
            "--requirement", str(lock),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise PythonEnvError(
                f"pip could not install {LOCK_FILE} for Python {python} on {cfg.emr.cluster.architecture} "
                f"(glibc {cfg.emr.glibc_version}):\n{result.stdout}{result.stderr}"
            )
        with tarfile.open(archive, "w:gz") as tar:
            for path in sorted(target.iterdir()):
                if path.name not in ("bin", "__pycache__"):  # console scripts are for a shell, not for imports
                    tar.add(path, arcname=path.name)
    return archive
