"""A live writer: keeps inserting and updating users and orders while extracts run.

It behaves like the application at its least convenient: each transaction begins, may wait
before its first write (so `now()`, the transaction start, is already in the past when the row
is written), writes one to three rows, stays open a while longer, then commits; a few roll back.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Optional

from lakehouse.config.model import PostgresConfig
from lakehouse.sourcegen.generator import STATUS_WEIGHTS, STATUSES, order_total
from lakehouse.sources.postgres import connect

log = logging.getLogger(__name__)


@dataclass
class WriterStats:
    committed: int = 0
    rolled_back: int = 0
    inserts: int = 0
    updates: int = 0


class ConcurrentWriter:
    """Writes from a background thread between `start()` and `stop()` (or as a context manager).

    Args:
        pg: the postgres config section.
        schema: where the seeded users and orders tables live.
        seed: random seed of the operation mix.
        max_hold_s: longest wait inside a transaction, before and after its writes.
        rollback_rate: share of transactions that roll back instead of committing.
    """

    def __init__(self, pg: PostgresConfig, schema: str = "public", seed: int = 7, max_hold_s: float = 0.2,
                 rollback_rate: float = 0.05):
        self.pg, self.schema, self.max_hold_s, self.rollback_rate = pg, schema, max_hold_s, rollback_rate
        self.rng = random.Random(seed)
        self.stats = WriterStats()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._error: Optional[BaseException] = None

    def __enter__(self) -> ConcurrentWriter:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> ConcurrentWriter:
        self._thread = threading.Thread(target=self._run, name="concurrent-writer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> WriterStats:
        """Stops after the transaction in progress ends; re-raises an error the writer met."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._error is not None:
            raise RuntimeError("the concurrent writer failed") from self._error
        return self.stats

    def _run(self) -> None:
        try:
            with connect(self.pg, "lakehouse-concurrent-writer", read_only=False) as conn:
                while not self._stop.is_set():
                    self._one_transaction(conn)
                    time.sleep(self.rng.uniform(0, 0.02))
        except BaseException as exc:  # surfaced by stop()
            self._error = exc

    def _one_transaction(self, conn) -> None:
        from psycopg import Rollback

        rolled_back = self.rng.random() < self.rollback_rate
        with conn.transaction():
            time.sleep(self.rng.uniform(0, self.max_hold_s))  # begun: now() is fixed from here
            users, orders = self._ranges(conn)
            for _ in range(self.rng.randint(1, 3)):
                self._one_write(conn, users, orders)
            time.sleep(self.rng.uniform(0, self.max_hold_s))
            if rolled_back:
                raise Rollback()
        if rolled_back:
            self.stats.rolled_back += 1
        else:
            self.stats.committed += 1

    def _ranges(self, conn) -> tuple[int, int]:
        from psycopg import sql

        query = sql.SQL("SELECT (SELECT max(user_id) FROM {}), (SELECT max(order_id) FROM {})").format(
            sql.Identifier(self.schema, "users"), sql.Identifier(self.schema, "orders"))
        users, orders = conn.execute(query).fetchone()
        return users or 0, orders or 0

    def _one_write(self, conn, users: int, orders: int) -> None:
        from psycopg import sql

        rng = self.rng
        table = sql.Identifier(self.schema, "orders")
        choice = rng.random()
        if orders and choice < 0.55:
            conn.execute(sql.SQL("UPDATE {} SET status = %s, order_total = %s, quantity = %s WHERE order_id = %s")
                         .format(table), (rng.choices(STATUSES, STATUS_WEIGHTS)[0], order_total(rng),
                                          rng.randint(1, 5), rng.randint(1, orders)))
            self.stats.updates += 1
        elif users and choice < 0.9:
            # Dated by the UTC day of its created_at (the transaction's now()), as the seeded orders are.
            conn.execute(sql.SQL("INSERT INTO {} (customer_id, order_date, order_total, status, quantity)"
                                 " VALUES (%s, (now() AT TIME ZONE 'UTC')::date, %s, 'pending', %s)").format(table),
                         (rng.randint(1, users), order_total(rng), rng.randint(1, 5)))
            self.stats.inserts += 1
        elif users:
            conn.execute(sql.SQL("UPDATE {} SET last_login_at = now() WHERE user_id = %s")
                         .format(sql.Identifier(self.schema, "users")), (rng.randint(1, users),))
            self.stats.updates += 1
