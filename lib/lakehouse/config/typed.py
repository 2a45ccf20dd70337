"""Builds frozen dataclasses from merged YAML dicts, checking every key and type.

Each error names the dotted key and where its value came from (a file, an environment variable
or `--set`), so a bad config fails on load with a message that says what to fix and where.
"""
from __future__ import annotations

import contextlib
import dataclasses
import typing
from typing import Any, Literal, Union

import yaml

from lakehouse.config.secrets import SecretRef


class ConfigError(ValueError):
    """The configuration is invalid; the message lists every problem found."""


class RawString(str):
    """A value typed on a command line or in an environment variable, not yet parsed as YAML."""


class LocalPath(str):
    """A path or URI; a relative local path resolves against the project root."""


def resolve_path(value: str, base_dir: str) -> str:
    if "://" in value or value.startswith("/") or not base_dir:
        return value
    return f"{base_dir.rstrip('/')}/{value}"


class Builder:
    """Converts a nested dict into a dataclass instance, collecting all errors before raising."""

    def __init__(self, origins: dict[str, str], base_dir: str, files: list[str]):
        self.origins = origins
        self.base_dir = base_dir
        self.files = files
        self.errors: list[str] = []

    def origin(self, key: str) -> str:
        while key and key not in self.origins:
            key = key.rpartition(".")[0]
        return self.origins.get(key, "defaults")

    def fail(self, key: str, message: str) -> None:
        self.errors.append(f"{key}: {message} ({self.origin(key)})")

    def build(self, cls: type, data: Any, key: str = "") -> Any:
        if not isinstance(data, dict):
            self.fail(key or "<root>", f"expected a mapping, got {_show(data)}")
            return None
        errors_before = len(self.errors)
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init and "set_by" not in f.metadata}
        removed = getattr(cls, "REMOVED_KEYS", {})
        for unknown in sorted(set(data) - set(fields)):
            if unknown in removed:
                self.fail(_join(key, unknown), f"removed: {removed[unknown]}; delete the key")
            else:
                self.fail(_join(key, unknown), f"unknown key; known keys here: {', '.join(sorted(fields))}")
        values = {}
        for name, field in fields.items():
            child = _join(key, name)
            if name in data:
                values[name] = self.convert(hints[name], data[name], child)
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                # Optional keys too must be written (null is a value): a key an environment forgot
                # is an error, never a silent null.
                self.errors.append(
                    f"{child}: missing value (not set in {' or '.join(self.files)}); add it there "
                    f"or pass --set {child}=..."
                )
        if len(self.errors) > errors_before:
            return None
        instance = cls(**values)
        check = getattr(instance, "validate", None)
        if check is not None:
            for problem_key, message in check():
                self.fail(_join(key, problem_key), message)
        return instance

    def convert(self, hint: Any, value: Any, key: str) -> Any:
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin is Union:
            is_null = value is None or (isinstance(value, RawString) and value in ("", "null", "~"))
            if is_null and type(None) in args:
                return None
            inner = [a for a in args if a is not type(None)]
            return self.convert(inner[0], value, key)
        if isinstance(value, RawString) and hint not in (str, LocalPath, SecretRef):
            with contextlib.suppress(yaml.YAMLError):
                value = yaml.safe_load(value)
        if value is None:
            self.fail(key, "missing value (null)")
            return None
        if origin in (dict, dict):
            if not isinstance(value, dict):
                self.fail(key, f"expected a mapping, got {_show(value)}")
                return {}
            return {str(k): self.convert(args[1], v, _join(key, str(k))) for k, v in value.items()}
        if origin in (list, list):
            if not isinstance(value, list):
                self.fail(key, f"expected a list, got {_show(value)}")
                return []
            return [self.convert(args[0], v, f"{key}[{i}]") for i, v in enumerate(value)]
        if origin is Literal:
            if value not in args:
                self.fail(key, f"expected one of {', '.join(map(str, args))}, got {_show(value)}")
            return value
        if hint is SecretRef:
            if not isinstance(value, str):
                self.fail(key, f"expected a secret reference, got {_show(value)}")
                return None
            try:
                return SecretRef.parse(value, self.base_dir)
            except ValueError as exc:
                self.fail(key, str(exc))
                return None
        if hint is LocalPath:
            if not isinstance(value, str):
                self.fail(key, f"expected a path, got {_show(value)}")
                return None
            return resolve_path(value, self.base_dir)
        if dataclasses.is_dataclass(hint):
            return self.build(hint, value, key)
        return self.scalar(hint, value, key)

    def scalar(self, hint: type, value: Any, key: str) -> Any:
        ok = isinstance(value, hint) and not (hint is int and isinstance(value, bool))
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not ok:
            self.fail(key, f"expected {hint.__name__}, got {_show(value)}")
        return value


def split_key(cls: type, dotted: str) -> list[str]:
    """Splits a dotted key along the schema, so a map of plain values keeps dots in its keys:
    `spark.conf.spark.sql.shuffle.partitions` is ["spark", "conf", "spark.sql.shuffle.partitions"]."""
    parts = dotted.split(".")
    hint: Any = cls
    for index, part in enumerate(parts):
        while typing.get_origin(hint) is Union:
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        if dataclasses.is_dataclass(hint):
            hint = typing.get_type_hints(hint).get(part)
            if hint is None:
                break
        elif typing.get_origin(hint) in (dict, dict):
            value_hint = typing.get_args(hint)[1]
            if not dataclasses.is_dataclass(value_hint):
                return [*parts[:index], ".".join(parts[index:])]
            hint = value_hint
        else:
            break
    return parts


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"
