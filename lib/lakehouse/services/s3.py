"""An S3-compatible endpoint for S3A paths: moto in server mode on s3.endpoint's port.

moto keeps buckets in memory, so a restart empties them; tests create their own buckets.
It accepts any credentials; `file:` references in s3.access_key/secret_key that point to
missing files get generated ones, so local clients sign requests like real ones.
"""
from __future__ import annotations

import secrets
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from lakehouse.config import Config
from lakehouse.services.process import ServiceError, port_open, read_pid, spawn, terminate, wait_until


class S3Endpoint:
    name = "s3"

    def __init__(self, cfg: Config):
        if not cfg.s3.endpoint:
            raise ServiceError("s3.endpoint is not set: the local S3 endpoint needs a host and port")
        url = urlparse(cfg.s3.endpoint)
        self.cfg = cfg
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.home = Path(cfg.services.state_dir) / "s3"
        self.pid_file = self.home / "moto.pid"
        self.log_file = self.home / "moto.log"

    def describe(self) -> str:
        return f"S3 endpoint (moto) on {self.cfg.s3.endpoint}"

    def running(self) -> bool:
        return read_pid(self.pid_file) is not None and self._ready()

    def start(self) -> None:
        if port_open(self.host, self.port):
            raise ServiceError(f"port {self.port} is taken by another program; set s3.endpoint")
        self.home.mkdir(parents=True, exist_ok=True)
        for ref, make in ((self.cfg.s3.access_key, _access_key), (self.cfg.s3.secret_key, _secret_key)):
            path = ref.file_path if ref is not None else None
            if path is not None and not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(make())
                path.chmod(0o600)
        command = [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)]
        pid = spawn(command, self.log_file, self.pid_file)
        wait_until(self._ready, self.cfg.services.startup_timeout_s, self.describe(), pid, self.log_file)

    def stop(self) -> bool:
        return terminate(self.pid_file)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.cfg.s3.endpoint}/moto-api/", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False


def s3_client(cfg: Config):
    """A boto3 S3 client for the configured endpoint and credentials (local tools and tests)."""
    import boto3

    keys = {}
    if cfg.s3.credentials == "keys":
        keys = {"aws_access_key_id": cfg.s3.access_key.resolve(),
                "aws_secret_access_key": cfg.s3.secret_key.resolve()}
    return boto3.client("s3", endpoint_url=cfg.s3.endpoint, region_name=cfg.s3.region, **keys)


def _access_key() -> str:
    return "LOCAL" + secrets.token_hex(8).upper()


def _secret_key() -> str:
    return secrets.token_urlsafe(30)
