"""Ships a release to S3: everything the EMR steps of lakehouse.orchestration.commands reference.

A release is <emr.artifacts_uri>/<version>/ holding the wheel (for --py-files), its Python
dependencies for the cluster (lakehouse.orchestration.python_env, for --archives), the job files
and the environment's conf/base.yaml and conf/<env>.yaml. What the config names on S3 for the jobs
to read goes where the config says: the jars the cluster lacks (spark.extra_jars, copied by file name
from the local Maven folders `make jars` fills: .local/jars/spark, and .local/jars/cluster for jars only
the clusters load) and the reference data (streaming.fx_rates_seed,
from conf/reference/). The cluster itself installs nothing: no bootstrap action.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from lakehouse.config import Config
from lakehouse.orchestration.commands import package_version, release_uri, wheel_name

SOURCES = ("setup.py", "pyproject.toml", "lib", "jobs")
REFERENCE_DIR = "conf/reference"


class ArtifactError(RuntimeError):
    """A release cannot be built or is incomplete."""


@dataclass(frozen=True)
class Artifact:
    source: Path
    uri: str


def build_wheel(project_root: Path, out_dir: Path) -> Path:
    """Builds the package's wheel from a clean copy of its sources, so parallel builds never meet."""
    with tempfile.TemporaryDirectory(prefix="lakehouse-wheel-") as tmp:
        tree = Path(tmp, "lakehouse-jobs")
        tree.mkdir()
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for name in SOURCES:
            source = project_root / name
            if source.is_dir():
                shutil.copytree(source, tree / name, ignore=ignore)
            else:
                shutil.copy2(source, tree / name)
        out_dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out_dir), str(tree)],
            capture_output=True, text=True, check=False,
        )
    if result.returncode != 0:
        raise ArtifactError(f"building the wheel failed:\n{result.stdout}{result.stderr}")
    wheel = out_dir / wheel_name(package_version())
    if not wheel.is_file():
        built = ", ".join(p.name for p in out_dir.glob("*.whl"))
        raise ArtifactError(
            f"expected {wheel.name} (the installed package's version) but built {built}; "
            "reinstall the package (`make venv`) so the DAGs and the release agree"
        )
    return wheel


def named_inputs(cfg: Config, jars_dirs: Sequence[Path]) -> list[Artifact]:
    """What the config names on S3 for the jobs to read, each with the local file it is copied from:
    the extra jars (from the first of `jars_dirs` holding each) and the reference data. Raises
    ArtifactError for the first one missing; cheap, so checked before anything is built."""
    root = Path(cfg.project_root)
    inputs = [("spark.extra_jars", uri, list(jars_dirs), "run `make jars`") for uri in cfg.spark.extra_jars]
    inputs.append(("streaming.fx_rates_seed", cfg.streaming.fx_rates_seed, [root / REFERENCE_DIR],
                   f"reference data lives in {REFERENCE_DIR}/"))
    found_inputs = []
    for key, uri, folders, hint in inputs:
        if not uri.startswith("s3://"):
            continue
        name = uri.rsplit("/", 1)[-1]
        found = [folder / name for folder in folders if (folder / name).is_file()]
        if not found:
            missing = " nor ".join(str(folder / name) for folder in folders)
            raise ArtifactError(f"{key} names {uri} but {missing} does not exist; {hint}")
        found_inputs.append(Artifact(found[0], uri))
    return found_inputs


def release_artifacts(cfg: Config, wheel: Path, python_deps: Path, inputs: Sequence[Artifact]) -> list[Artifact]:
    """What one release consists of, local file -> S3 URI, for cfg's environment: the wheel, the
    Python dependencies, the job files, the environment's config, and `inputs` (`named_inputs`)."""
    root = Path(cfg.project_root)
    release = release_uri(cfg)
    artifacts = [Artifact(wheel, f"{release}/{wheel.name}"), Artifact(python_deps, f"{release}/{python_deps.name}")]
    artifacts += [
        Artifact(path, f"{release}/{path.relative_to(root).as_posix()}")
        for path in sorted((root / "jobs").rglob("*.py"))
        if "__pycache__" not in path.parts
    ]
    artifacts += [Artifact(root / "conf" / name, f"{release}/conf/{name}") for name in ("base.yaml", f"{cfg.env}.yaml")]
    return artifacts + list(inputs)


def upload(s3_client, artifacts: list[Artifact]) -> list[str]:
    """Uploads every artifact (overwriting); returns the URIs written."""
    written = []
    for artifact in artifacts:
        bucket, key = split_s3_uri(artifact.uri)
        s3_client.upload_file(str(artifact.source), bucket, key)
        written.append(artifact.uri)
    return written


def split_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a") or not parsed.netloc or not parsed.path.strip("/"):
        raise ArtifactError(f"not an s3://bucket/key URI: {uri}")
    return parsed.netloc, parsed.path.lstrip("/")
