"""Packaging guards: jar versions match the Python wheels, and code stays Python 3.9-compatible."""
from __future__ import annotations

import ast
import glob
import importlib.metadata
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
SHIPPED_CODE = sorted(
    str(p) for folder in ("lib", "jobs") for p in (PROJECT_ROOT / folder).rglob("*.py")
)


def pom_property(name: str) -> str:
    root = ET.parse(PROJECT_ROOT / "jars" / "spark" / "pom.xml").getroot()
    return root.find(f"m:properties/m:{name}", POM_NS).text


def test_spark_jars_match_the_pyspark_wheel():
    assert pom_property("spark.version") == importlib.metadata.version("pyspark")


def test_delta_jars_match_the_delta_spark_wheel():
    assert pom_property("delta.version") == importlib.metadata.version("delta-spark")


def test_hadoop_aws_matches_the_hadoop_bundled_with_pyspark():
    import pyspark

    bundled = glob.glob(f"{pyspark.__path__[0]}/jars/hadoop-client-api-*.jar")
    assert bundled, "pyspark ships hadoop-client-api"
    assert bundled[0].rsplit("-", 1)[-1] == f"{pom_property('hadoop.version')}.jar"


@pytest.mark.parametrize("path", SHIPPED_CODE, ids=lambda p: p.split(str(PROJECT_ROOT))[-1])
def test_shipped_code_parses_as_python_3_9(path):
    ast.parse(Path(path).read_text(), filename=path, feature_version=(3, 9))


def python39() -> str | None:
    """A Python 3.9 interpreter: pyenv's (its PATH shim may refuse to run) or one on the PATH."""
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9")))
    return candidates[-1] if candidates else shutil.which("python3.9")


def test_shipped_code_compiles_under_a_real_python_3_9_when_one_is_installed():
    interpreter = python39()
    if interpreter is None:
        pytest.skip("no python3.9 on this machine; the ast check above still runs")
    compile_all = "import sys\nfor path in sys.argv[1:]:\n    compile(open(path).read(), path, 'exec')"
    result = subprocess.run([interpreter, "-c", compile_all, *SHIPPED_CODE], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
