"""Starts, stops and reports the local services together; starting one already up is a no-op."""
from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Optional

from lakehouse.config import Config
from lakehouse.services.kafka_broker import KafkaBroker
from lakehouse.services.postgres import PostgresServer
from lakehouse.services.s3 import S3Endpoint

log = logging.getLogger(__name__)

SERVICES = {"kafka": KafkaBroker, "postgres": PostgresServer, "s3": S3Endpoint}


def select(cfg: Config, names: Optional[Iterable[str]] = None) -> list:
    """The services named: all of them when `names` is None, none for an empty list."""
    names = list(SERVICES) if names is None else list(names)
    unknown = sorted(set(names) - set(SERVICES))
    if unknown:
        raise ValueError(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    return [SERVICES[name](cfg) for name in names]


def up(cfg: Config, names: Optional[Iterable[str]] = None) -> list[str]:
    """Starts the services that are not running; returns the names of those it started."""
    started = []
    with _exclusive(cfg):
        for service in select(cfg, names):
            if service.running():
                log.info("%s: already running", service.describe())
                continue
            log.info("%s: starting", service.describe())
            service.start()
            started.append(service.name)
            log.info("%s: ready", service.describe())
    return started


def down(cfg: Config, names: Optional[Iterable[str]] = None) -> list[str]:
    """Stops the services; returns the names of those that were running."""
    stopped = []
    with _exclusive(cfg):
        for service in reversed(select(cfg, names)):
            if service.stop():
                stopped.append(service.name)
                log.info("%s: stopped", service.describe())
    return stopped


def status(cfg: Config, names: Optional[Iterable[str]] = None) -> dict[str, bool]:
    return {service.describe(): service.running() for service in select(cfg, names)}


@contextlib.contextmanager
def _exclusive(cfg: Config) -> Iterator[None]:
    """One starter or stopper at a time, across processes (two test runs, a test run and make)."""
    state = Path(cfg.services.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    with open(state / ".services.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
