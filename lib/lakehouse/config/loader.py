"""Loads the configuration: conf/base.yaml < conf/<env>.yaml < LAKEHOUSE__* variables < --set.

Later layers override earlier ones key by key (mappings merge, lists and scalars replace).
An environment variable `LAKEHOUSE__KAFKA__BOOTSTRAP_SERVERS` sets `kafka.bootstrap_servers`;
`--set kafka.bootstrap_servers=host:9092` does the same from a command line.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Optional

import yaml

from lakehouse.config.model import Config
from lakehouse.config.secrets import SecretRef
from lakehouse.config.typed import Builder, ConfigError, RawString, split_key

ENV_PREFIX = "LAKEHOUSE__"
ENVIRONMENTS = ("local", "dev", "prod")


def load_config(
    env: str,
    conf_dir: str | Path,
    overrides: Iterable[str] = (),
    environ: Optional[Mapping[str, str]] = None,
) -> Config:
    """Returns the validated config of `env`, or raises ConfigError listing every problem.

    Args:
        env: one of local, dev, prod (any name with a conf/<env>.yaml file works).
        conf_dir: the folder holding base.yaml and <env>.yaml; relative paths in the
            config resolve against its parent, the project root.
        overrides: `key=value` strings from `--set`, applied last.
        environ: the environment to read LAKEHOUSE__* variables from (os.environ by default).
    """
    conf_dir = Path(conf_dir).resolve()
    base_file = conf_dir / "base.yaml"
    env_file = conf_dir / f"{env}.yaml"
    for path in (base_file, env_file):
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in conf_dir.glob("*.yaml") if p.stem != "base"))
            raise ConfigError(f"config file {path} not found (environments in {conf_dir}: {known or 'none'})")

    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for path in (base_file, env_file):
        _merge(merged, _read_yaml(path), _display(path), origins)
    environ = os.environ if environ is None else environ
    for dotted, value, origin in _from_environment(environ) + _from_overrides(overrides):
        _merge(merged, _unflatten(dotted, value), origin, origins)

    builder = Builder(origins, base_dir=str(conf_dir.parent), files=[_display(base_file), _display(env_file)])
    config = builder.build(Config, merged)
    if builder.errors:
        raise ConfigError(f"invalid config for env {env!r}:\n  " + "\n  ".join(builder.errors))
    return dataclasses.replace(config, env=env, project_root=str(conf_dir.parent))


def describe(config: Config) -> list[str]:
    """The effective config as `key = value` lines; secrets show as their references only."""
    return [f"env = {config.env}"] + [f"{key} = {value}" for key, value in _flatten(config)]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{_display(path)} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{_display(path)} must hold a mapping at the top level")
    return data


def _display(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _merge(into: dict[str, Any], layer: Mapping[str, Any], origin: str, origins: dict[str, str], prefix=""):
    for key, value in layer.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            origins.setdefault(dotted, origin)
            _merge(into[key], value, origin, origins, f"{dotted}.")
        else:
            into[key] = value
            for stale in [k for k in origins if k.startswith(f"{dotted}.")]:
                del origins[stale]
            origins[dotted] = origin


def _from_environment(environ: Mapping[str, str]) -> list[tuple[str, str, str]]:
    return [
        (name[len(ENV_PREFIX):].lower().replace("__", "."), value, f"environment variable {name}")
        for name, value in sorted(environ.items())
        if name.startswith(ENV_PREFIX)
    ]


def _from_overrides(overrides: Iterable[str]) -> list[tuple[str, str, str]]:
    items = []
    for text in overrides:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {text!r}: expected key=value, e.g. --set spark.shuffle_partitions=4")
        items.append((key.strip(), value, "--set"))
    return items


def _unflatten(dotted: str, value: str) -> dict[str, Any]:
    *parents, leaf = split_key(Config, dotted)
    tree: dict[str, Any] = {leaf: RawString(value)}
    for part in reversed(parents):
        tree = {part: tree}
    return tree


def _flatten(value: Any, prefix: str = ""):
    if isinstance(value, SecretRef):
        yield prefix.rstrip("."), f"{value} (secret reference)"
        return
    if dataclasses.is_dataclass(value):
        items = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value) if "set_by" not in f.metadata]
    elif isinstance(value, dict) and value:
        items = list(value.items())
    else:
        yield prefix.rstrip("."), value
        return
    for key, child in items:
        yield from _flatten(child, f"{prefix}{key}.")
