"""A streaming standby (a physical replica) of the project's PostgreSQL, for tests of reading a replica.

`pg_basebackup -R` copies the primary over its Unix socket (initdb's pg_hba trusts local replication
connections) and writes `standby.signal` and `primary_conninfo`; the standby then runs on its own
port from a temporary folder, as the primary's user, until `stop()` removes it. It holds the same
roles and databases as the primary and replays its writes within moments.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Optional

from lakehouse.services.postgres import PostgresServer, run_program
from lakehouse.services.process import ServiceError, port_open

TEMP_PARENT = "/var/tmp"  # reachable by the postgres user, unlike a root-only pytest folder


class PostgresStandby:
    """A hot standby of `primary` on `port` (127.0.0.1); use as a context manager."""

    def __init__(self, primary: PostgresServer, port: int, startup_timeout_s: float = 60):
        self.primary, self.port, self.startup_timeout_s = primary, port, startup_timeout_s
        self.data: Optional[Path] = None

    def __enter__(self) -> PostgresStandby:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> PostgresStandby:
        if port_open("127.0.0.1", self.port):
            raise ServiceError(f"port {self.port} is taken; choose another for the standby")
        run_as = self.primary.run_as
        self.data = Path(tempfile.mkdtemp(prefix="lakehouse-standby-", dir=TEMP_PARENT))
        if run_as:
            shutil.chown(self.data, run_as, run_as)
        self.data.chmod(0o700)
        try:
            run_program("pg_basebackup", "-h", str(self.primary.socket_dir), "-p", str(self.primary.port),
                        "-U", "postgres", "-D", str(self.data), "-X", "stream", "-R", "-c", "fast", run_as=run_as)
            options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c hot_standby=on"
            run_program("pg_ctl", "start", "-w", "-t", str(int(self.startup_timeout_s)), "-D", str(self.data),
                        "-l", str(self.data / "standby.log"), "-o", options, run_as=run_as)
            self._wait_until_streaming()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops the standby (immediately: it holds nothing worth a checkpoint) and removes its folder."""
        if self.data is None:
            return
        if (self.data / "postmaster.pid").exists():
            run_program("pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(self.data),
                        run_as=self.primary.run_as, check=False)
        shutil.rmtree(self.data, ignore_errors=True)
        self.data = None

    def admin_connection(self, database: str = "postgres"):
        """A superuser connection over the standby's socket (pausing and resuming replay)."""
        import psycopg

        return psycopg.connect(host=str(self.data), port=self.port, user="postgres", dbname=database,
                               autocommit=True)

    def wait_for_replay(self, timeout_s: float = 30) -> None:
        """Returns once the standby has replayed everything the primary had written when called."""
        with self.primary.admin_connection() as primary:
            target = primary.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        with self.admin_connection() as standby:
            deadline = time.monotonic() + timeout_s
            while not standby.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise ServiceError(f"the standby did not replay up to {target} within {timeout_s}s")
                time.sleep(0.05)

    def _wait_until_streaming(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        with self.admin_connection() as conn:
            while conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone() != ("streaming",):
                if time.monotonic() > deadline:
                    raise ServiceError(f"the standby on port {self.port} is not streaming; see {self.data}/standby.log")
                time.sleep(0.1)
