"""Records that break a contract in one known way each, with the reason silver must give."""
from __future__ import annotations

import random
from typing import Any, Callable, Optional

from lakehouse.generators.records import EVENTS, METRICS, TRANSACTIONS, encode

# name -> (contracts it applies to, breaks a valid payload into bytes, expected reason)
Breaker = Callable[[dict[str, Any]], Optional[bytes]]
ALL = (EVENTS, TRANSACTIONS, METRICS)


def _without(field: str) -> Breaker:
    return lambda p: encode({k: v for k, v in p.items() if k != field})


def _with(field: str, value: Any) -> Breaker:
    return lambda p: encode({**p, field: value})


BREAKERS: dict[str, tuple[tuple[str, ...], Breaker, str]] = {
    "truncated": (ALL, lambda p: encode(p)[: len(encode(p)) // 2], "malformed_json"),
    "null_value": (ALL, lambda p: None, "null_value"),
    "invalid_utf8": (ALL, lambda p: encode(p).replace(b'"1.0"', b'"1.0\xff\xfe"'), "invalid_utf8"),
    "schema_v2": (ALL, _with("schema_version", "2.0"), "unsupported_schema_version"),
    "event_without_id": ((EVENTS,), _without("event_id"), "missing_field:event_id"),
    "event_type_unknown": ((EVENTS,), _with("event_type", "hover"), "not_allowed:event_type"),
    "event_before_2020": ((EVENTS,), _with("event_timestamp", "2019-12-31T23:59:59.000Z"),
                          "before_2020:event_timestamp"),
    "amount_not_a_number": ((TRANSACTIONS,), _with("amount", "lots"), "wrong_type:amount"),
    "amount_out_of_range": ((TRANSACTIONS,), _with("amount", "1000000.01"), "out_of_range:amount"),
    "currency_unknown": ((TRANSACTIONS,), _with("currency", "JPY"), "not_allowed:currency"),
    "updated_before_created": ((TRANSACTIONS,), _with("updated_at", "2020-01-01T00:00:00.000Z"),
                               "updated_at_before_created_at"),
    "metric_value_text": ((METRICS,), _with("metric_value", "high"), "wrong_type:metric_value"),
}


def breakers_for(contract: str) -> list[str]:
    return [name for name, (contracts, _, _) in BREAKERS.items() if contract in contracts]


def break_record(rng: random.Random, contract: str, payload: dict[str, Any]) -> tuple[Optional[bytes], str]:
    """A malformed version of `payload` and the reason silver must quarantine it with."""
    name = rng.choice(breakers_for(contract))
    _, breaker, reason = BREAKERS[name]
    return breaker(payload), reason
