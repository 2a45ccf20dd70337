"""Builds the wheel and the cluster's Python dependencies and uploads a release to S3.

The release (wheel, packed dependencies, job files, conf) goes to <emr.artifacts_uri>/<package
version>/ of the chosen environment, where the DAGs' EMR steps read it; the extra jars and the
reference data go to the URIs the config names. Run it from CI on every merge
(`make ship-artifacts ENV=dev`).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from lakehouse.orchestration.artifacts import ArtifactError, build_wheel, named_inputs, release_artifacts, upload
from lakehouse.orchestration.commands import release_uri
from lakehouse.orchestration.python_env import PythonEnvError, build_python_deps
from lakehouse.runtime.entrypoint import configure_logging, parse_config
from lakehouse.services.s3 import s3_client

DEFAULT_JARS_DIRS = (".local/jars/spark", ".local/jars/cluster")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jars-dir", action="append", dest="jars_dirs",
                        help="folder with jars named in spark.extra_jars, repeatable (default .local/jars/spark "
                             "and .local/jars/cluster, `make jars`)")
    parser.add_argument("--dry-run", action="store_true", help="build and list the release, upload nothing")


def main(argv: Optional[Sequence[str]] = None) -> int:
    configure_logging("WARNING")
    cfg, args = parse_config(__doc__, argv, add_arguments)
    root = Path(cfg.project_root)
    try:
        inputs = named_inputs(cfg, [root / folder for folder in args.jars_dirs or DEFAULT_JARS_DIRS])
        with tempfile.TemporaryDirectory(prefix="lakehouse-release-") as out:
            wheel = build_wheel(root, Path(out))
            python_deps = build_python_deps(cfg, Path(out))
            artifacts = release_artifacts(cfg, wheel, python_deps, inputs)
            print(f"release {release_uri(cfg)} ({len(artifacts)} files)")
            if args.dry_run:
                for artifact in artifacts:
                    print(f"  would upload {artifact.source} -> {artifact.uri}")
                return 0
            for uri in upload(s3_client(cfg), artifacts):
                print(f"  uploaded {uri}")
    except (ArtifactError, PythonEnvError) as exc:
        print(f"lakehouse-ship-artifacts: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
