"""A PostgreSQL server from the Debian (or any) `postgresql` package, owned by the project.

It runs from its own data folder on postgres.port with its socket in that folder, so it never
touches a system cluster. PostgreSQL refuses to run as root: as root, the server runs as the
`postgres` user (data folder chowned to it). The role in postgres.user gets the password behind
the postgres.password reference; a `file:` reference whose file is missing gets a new random one.
"""
from __future__ import annotations

import glob
import hashlib
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from lakehouse.config import Config
from lakehouse.services.process import ServiceError, port_open

SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "100",
    "shared_buffers": "256MB",
    "fsync": "on",
    "log_min_messages": "warning",
    # A streaming standby can follow it (services.standby; initdb's pg_hba lets local sockets replicate).
    "wal_level": "replica",
    "max_wal_senders": "10",
}


class PostgresServer:
    name = "postgres"

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.port = cfg.postgres.port
        self.home = Path(cfg.services.state_dir) / "postgres"
        self.run_as = "postgres" if os.geteuid() == 0 else None

    def describe(self) -> str:
        return f"PostgreSQL on 127.0.0.1:{self.port} (database {self.cfg.postgres.database})"

    def running(self) -> bool:
        data = self._data_dir()
        return data.exists() and self._pg("pg_ctl", "status", "-D", str(data), check=False).returncode == 0

    def start(self) -> None:
        data = self._data_dir()
        if not (data / "PG_VERSION").exists():
            self._init(data)
        if port_open("127.0.0.1", self.port):
            raise ServiceError(f"port {self.port} is taken by another program; set postgres.port")
        options = " ".join(f"-c {k}={v}" for k, v in SERVER_SETTINGS.items())
        self._pg(
            "pg_ctl", "start", "-w", "-t", str(int(self.cfg.services.startup_timeout_s)), "-D", str(data),
            "-l", str(data / "server.log"), "-o", f"-p {self.port} -k {data} {options}",
        )
        self._ensure_role_and_database()

    def stop(self) -> bool:
        data = self._data_dir()
        if not self.running():
            return False
        self._pg("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(data))
        return True

    def _init(self, data: Path) -> None:
        data.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            shutil.chown(data, self.run_as, self.run_as)
        data.chmod(0o700)
        self._pg("initdb", "-D", str(data), "-U", "postgres", "--auth-local=trust",
                 "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C")

    @property
    def socket_dir(self) -> Path:
        """Where the server's Unix socket lives (its data folder)."""
        return self._data_dir()

    def admin_connection(self, database: str = "postgres"):
        """A superuser connection over the server's socket (creating databases, roles; tests)."""
        import psycopg

        return psycopg.connect(host=str(self.socket_dir), port=self.port, user="postgres", dbname=database,
                               autocommit=True)

    def _ensure_role_and_database(self) -> None:
        from psycopg import sql

        pg = self.cfg.postgres
        password = self._role_password()
        with self.admin_connection() as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (pg.user,)).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(pg.user)))
            conn.execute(sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
                sql.Identifier(pg.user), sql.Literal(password)))
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (pg.database,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(pg.database), sql.Identifier(pg.user)))

    def _role_password(self) -> str:
        ref = self.cfg.postgres.password
        path = ref.file_path
        if path is not None and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(24))
            path.chmod(0o600)
        return ref.resolve()

    def _data_dir(self) -> Path:
        """The data folder: under the state folder, or (as root, when the postgres user cannot
        reach it, e.g. a clone under a private temp folder) a folder under /var/tmp linked from it."""
        preferred = self.home / "data"
        if preferred.is_symlink():
            return preferred.resolve()
        if not self.run_as or self._reachable(self.home.parent):
            return preferred
        digest = hashlib.sha1(str(self.home.resolve()).encode()).hexdigest()[:12]
        outside = Path("/var/tmp") / f"lakehouse-postgres-{digest}"
        outside.mkdir(mode=0o700, exist_ok=True)
        shutil.chown(outside, self.run_as, self.run_as)
        self.home.mkdir(parents=True, exist_ok=True)
        preferred.symlink_to(outside, target_is_directory=True)
        return outside

    def _reachable(self, folder: Path) -> bool:
        folder.mkdir(parents=True, exist_ok=True)
        probe = subprocess.run(["runuser", "-u", self.run_as, "--", "test", "-x", str(folder)], check=False)
        return probe.returncode == 0

    def _pg(self, program: str, *args: str, check: bool = True):
        return run_program(program, *args, run_as=self.run_as, check=check)


def run_program(program: str, *args: str, run_as: Optional[str] = None, check: bool = True):
    """Runs a server program (as `run_as` when given); raises ServiceError when it fails and `check`."""
    command: list[str] = [str(_binary(program)), *args]
    if run_as:
        command = ["runuser", "-u", run_as, "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, cwd="/")
    if check and result.returncode != 0:
        raise ServiceError(f"{program} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result


def _binary(program: str) -> Path:
    """Finds a server program: Debian keeps them in /usr/lib/postgresql/<major>/bin, off the PATH."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"), key=_major, reverse=True)
    found = candidates[0] if candidates else shutil.which(program)
    if not found:
        raise ServiceError(
            f"PostgreSQL program {program} not found; run `make services-install` "
            "(installs Debian's postgresql package) or put a PostgreSQL bin folder on the PATH"
        )
    return Path(found)


def _major(path: str) -> int:
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0
