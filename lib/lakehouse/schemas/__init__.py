"""Contracts as code: the Kafka payload contracts (versioned by schema_version) and the lake's table schemas.

CONTRACTS is the registry: every contract the streaming jobs and the config know, by name. It is
read when asked, never copied, so a test can register a throwaway contract with monkeypatch.setitem.
"""
from __future__ import annotations

from lakehouse.schemas.contract import Contract, Field
from lakehouse.schemas.system_metrics import SYSTEM_METRICS
from lakehouse.schemas.transaction_events import TRANSACTION_EVENTS
from lakehouse.schemas.user_events import USER_EVENTS

CONTRACTS: dict[str, Contract] = {c.name: c for c in (USER_EVENTS, TRANSACTION_EVENTS, SYSTEM_METRICS)}

__all__ = ["CONTRACTS", "Contract", "Field"]
