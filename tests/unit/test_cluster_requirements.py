"""What the jobs import on the cluster is what the release ships: the imports reachable from the job
files (walked through the library, function-level imports included) are runtime requirements of
setup.py and are pinned in requirements/cluster.txt, unless the cluster provides them (pyspark)."""
from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement

from lakehouse.orchestration.commands import JOB_FILES
from lakehouse.orchestration.python_env import LOCK_FILE, platform_tags
from tests.conftest import PROJECT_ROOT

CLUSTER_PROVIDED = {"pyspark", "py4j"}   # EMR's Spark: pyspark.zip and py4j on every container's PYTHONPATH
# Modules reachable from the jobs but never imported on the cluster, with the reason.
NOT_ON_THE_CLUSTER = {
    "airflow": "lakehouse.config.secrets resolves `airflow:` references on Airflow workers only; "
                      "on EMR it fails naming the reference (jobs use secretsmanager:)",
}
# Requirements of a cluster pin older than this environment's release, which its metadata cannot show:
# openlineage-python 1.45 (the last for Python 3.9) needs httpx, the newer releases httpx2.
OLDER_PIN_REQUIRES = {"openlineage-python": ("httpx",)}
OWN_PACKAGES = {"lakehouse": PROJECT_ROOT / "lib" / "lakehouse", "lakehouse_jobs": PROJECT_ROOT / "jobs"}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def module_file(dotted: str):
    top, *rest = dotted.split(".")
    base = OWN_PACKAGES[top].joinpath(*rest)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path) -> set[str]:
    """Every module an import statement of `path` names, at any depth (function-level too)."""
    package = ".".join(path.relative_to(PROJECT_ROOT / ("lib" if "lib" in path.parts else "")).with_suffix("").parts)
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def third_party_imports_of_the_jobs() -> dict[str, set[str]]:
    """Top-level third-party module -> the project files importing it, from the job files onwards."""
    todo = [PROJECT_ROOT / path for path in JOB_FILES.values()]
    seen, found = set(), {}
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in OWN_PACKAGES:
                target = module_file(name)
                if target is not None:
                    todo.append(target)
            elif top not in sys.stdlib_module_names and top != "__future__":
                found.setdefault(top, set()).add(str(path.relative_to(PROJECT_ROOT)))
    return found


def distributions_of(modules) -> dict[str, str]:
    owners = importlib.metadata.packages_distributions()
    return {module: normalized(owners[module][0]) for module in modules}


def runtime_requirements() -> dict[str, Requirement]:
    """setup.py's RUNTIME list (read from the file: the installed metadata may be older)."""
    tree = ast.parse((PROJECT_ROOT / "setup.py").read_text())
    (texts,) = [ast.literal_eval(node.value) for node in tree.body
                if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["RUNTIME"]]
    return {normalized(Requirement(text).name): Requirement(text) for text in texts}


def cluster_pins() -> dict[str, str]:
    pins = {}
    for line in (PROJECT_ROOT / LOCK_FILE).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{LOCK_FILE}: {line!r} is not pinned with =="
            pins[normalized(name)] = version
    return pins


def test_every_third_party_import_of_the_jobs_is_a_runtime_requirement():
    imports = third_party_imports_of_the_jobs()
    assert {"pyspark", "delta", "yaml", "psycopg", "confluent_kafka", "boto3"} <= set(imports)
    missing = {module: sorted(imports[module]) for module, dist in distributions_of(imports).items()
               if dist not in runtime_requirements() and module not in NOT_ON_THE_CLUSTER}
    assert missing == {}, "imported by the jobs but not in setup.py's RUNTIME"


def test_every_runtime_requirement_is_pinned_for_the_cluster_or_provided_by_it():
    pins = cluster_pins()
    for name, requirement in runtime_requirements().items():
        if name in CLUSTER_PROVIDED:
            assert name not in pins, f"{name} comes with EMR's Spark: pinning it would shadow the cluster's"
            continue
        assert name in pins, f"{name} is a runtime requirement but not pinned in {LOCK_FILE}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])
        for extra in requirement.extras:   # psycopg[binary] -> psycopg-binary
            assert f"{name}-{extra}" in pins, f"{name}[{extra}] needs {name}-{extra} pinned"


def test_every_pinned_package_is_needed_by_a_runtime_requirement():
    """No strays: each pin is a runtime requirement or a dependency of one (per its own metadata)."""
    pins = cluster_pins()
    needed = set()
    todo = list(runtime_requirements())
    while todo:
        name = todo.pop()
        if name in needed or name in CLUSTER_PROVIDED:
            continue
        needed.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"python_version": "3.9", "extra": ""}):
                todo.append(normalized(requirement.name))
        todo += [f"{name}-{extra}" for extra in ("binary",) if f"{name}-{extra}" in pins]
        todo += OLDER_PIN_REQUIRES.get(name, ())
    assert set(pins) - needed == set()


def test_the_cluster_platform_tags_cover_every_manylinux_glibc_the_nodes_can_load():
    assert platform_tags("2.34", "aarch64")[0] == "manylinux_2_34_aarch64"
    assert platform_tags("2.34", "aarch64")[-1] == "manylinux_2_17_aarch64"
    assert len(platform_tags("2.34", "x86_64")) == 18
