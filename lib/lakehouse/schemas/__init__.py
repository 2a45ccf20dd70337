"""Contracts as code: the Kafka payload contracts (versioned by schema_version) and the lake's table schemas."""
from __future__ import annotations

from lakehouse.schemas.contract import Contract, Field
from lakehouse.schemas.system_metrics import SILVER_SYSTEM_METRICS, SYSTEM_METRICS
from lakehouse.schemas.transaction_events import FRAUD_REVIEW, SILVER_TRANSACTIONS, TRANSACTION_EVENTS
from lakehouse.schemas.user_events import SILVER_USER_EVENTS, USER_EVENTS

CONTRACTS: dict[str, Contract] = {c.name: c for c in (USER_EVENTS, TRANSACTION_EVENTS, SYSTEM_METRICS)}

SILVER_SCHEMAS = {
    USER_EVENTS.name: SILVER_USER_EVENTS,
    TRANSACTION_EVENTS.name: SILVER_TRANSACTIONS,
    SYSTEM_METRICS.name: SILVER_SYSTEM_METRICS,
}

__all__ = ["CONTRACTS", "FRAUD_REVIEW", "SILVER_SCHEMAS", "Contract", "Field"]
