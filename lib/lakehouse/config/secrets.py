"""Secrets are named by reference in config and resolved only when a connection is made.

A reference is `<scheme>:<name>`:
- `env:NAME`: the environment variable NAME;
- `file:PATH`: the contents of a local file (relative paths resolve against the project root);
- `secretsmanager:SECRET_ID` or `secretsmanager:SECRET_ID#json_key`: AWS Secrets Manager;
- `airflow:CONN_ID`: the password of an Airflow connection.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

SCHEMES = ("env", "file", "secretsmanager", "airflow")


class SecretError(RuntimeError):
    """A secret reference cannot be resolved."""


@dataclass(frozen=True)
class SecretRef:
    """A pointer to a secret; its repr never contains the secret itself."""

    scheme: str
    name: str
    base_dir: str = ""

    @classmethod
    def parse(cls, text: str, base_dir: str = "") -> SecretRef:
        scheme, sep, name = text.partition(":")
        if not sep or scheme not in SCHEMES or not name:
            raise ValueError(
                f"a secret must be a reference like {', '.join(s + ':...' for s in SCHEMES)}, not a value"
            )
        return cls(scheme, name, base_dir)

    def __str__(self) -> str:
        return f"{self.scheme}:{self.name}"

    def resolve(self) -> str:
        """Returns the secret's value; raises SecretError naming the reference when it is absent."""
        if self.scheme == "env":
            value = os.environ.get(self.name)
            if value is None:
                raise SecretError(f"secret {self}: environment variable {self.name} is not set")
            return value
        if self.scheme == "file":
            path = Path(self.base_dir, self.name)
            if not path.is_file():
                raise SecretError(f"secret {self}: file {path} does not exist")
            return path.read_text().strip()
        if self.scheme == "secretsmanager":
            return _from_secrets_manager(self)
        return _from_airflow(self)

    @property
    def file_path(self) -> Path | None:
        """The local file behind a `file:` reference, else None."""
        return Path(self.base_dir, self.name) if self.scheme == "file" else None


def _from_secrets_manager(ref: SecretRef) -> str:
    import boto3

    secret_id, _, key = ref.name.partition("#")
    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    if not key:
        return value
    fields = json.loads(value)
    if key not in fields:
        raise SecretError(f"secret {ref}: key {key!r} not in the secret (keys: {', '.join(sorted(fields))})")
    return fields[key]


def _from_airflow(ref: SecretRef) -> str:
    try:
        from airflow.sdk import BaseHook
    except ImportError:
        raise SecretError(
            f"secret {ref}: airflow: references resolve only where Airflow runs (DAGs, workers); "
            "jobs on EMR take secretsmanager: references"
        ) from None

    password = BaseHook.get_connection(ref.name).password
    if not password:
        raise SecretError(f"secret {ref}: Airflow connection {ref.name} has no password")
    return password
