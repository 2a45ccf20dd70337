"""Where the project's command-line tools are, and the environment spark-submit needs.

Tools run as processes (spark-submit, dbt) are the ones installed next to this interpreter, in
the project's virtualenv, so a process runs the same versions as the caller; the PATH is the
fallback. A spark-submit started from here runs its driver and Python workers on this interpreter,
which has the package installed (pyspark's launcher would otherwise pick `python3` from the PATH).
"""
from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Optional


class ExecutableNotFound(RuntimeError):
    """A command-line tool is neither in the project's virtualenv nor on the PATH."""


def venv_executable(name: str, install_hint: str) -> str:
    """The tool `name` next to this interpreter, else on the PATH; `install_hint` says how to get it."""
    beside = Path(sys.executable).with_name(name)
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise ExecutableNotFound(f"{name} not found next to {sys.executable} nor on PATH ({install_hint})")
    return found


def spark_submit_executable() -> str:
    return venv_executable("spark-submit", "pip install pyspark")


def spark_submit_env(environ: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """`environ` (os.environ by default) with the driver and workers on this interpreter."""
    env = dict(os.environ if environ is None else environ)
    env.update(PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    return env
