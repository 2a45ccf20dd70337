"""Valid payloads of each contract, built from a seeded random generator."""
from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from decimal import Decimal
from typing import Any

from lakehouse.schemas.system_metrics import SYSTEM_METRICS
from lakehouse.schemas.transaction_events import CURRENCIES, TRANSACTION_EVENTS
from lakehouse.schemas.user_events import EVENT_TYPES, USER_EVENTS

# The contracts these payloads follow, by name.
EVENTS, TRANSACTIONS, METRICS = USER_EVENTS.name, TRANSACTION_EVENTS.name, SYSTEM_METRICS.name

DEVICES = ("desktop", "mobile", "tablet")
COUNTRIES = ("US", "GB", "DE", "FR", "CA", "AU", "NL", "ES")
PAGES = ("/", "/search", "/product/{n}", "/cart", "/checkout", "/account")
PAYMENT_METHODS = ("card", "paypal", "bank_transfer", "apple_pay")
MERCHANT_CATEGORIES = ("grocery", "electronics", "travel", "fashion", "restaurants", "games")
SERVICES = {"checkout-api": ("latency_ms", "ms"), "search-api": ("requests_per_s", "1/s"),
            "payments-worker": ("queue_depth", "messages")}


def iso(moment: dt.datetime) -> str:
    """UTC ISO 8601 with milliseconds and a Z, the way producers write timestamps."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def user_event(rng: random.Random, user_id: int, at: dt.datetime, session_id: str) -> dict[str, Any]:
    return {
        "event_id": new_uuid(rng),
        "user_id": str(user_id),
        "session_id": session_id,
        "event_type": rng.choice(EVENT_TYPES),
        "event_timestamp": iso(at),
        "page_url": "https://shop.example.com" + rng.choice(PAGES).format(n=rng.randint(1, 500)),
        "referrer": rng.choice([None, "https://www.google.com/", "https://news.example.org/"]),
        "device_type": rng.choice(DEVICES),
        "country_code": rng.choice(COUNTRIES),
        "event_properties": {"ab_test": rng.choice(["a", "b"]), "scroll_depth": rng.randint(0, 100)},
        "schema_version": "1.0",
    }


def transaction(rng: random.Random, user_id: int, at: dt.datetime, amount: Decimal) -> dict[str, Any]:
    return {
        "transaction_id": f"txn-{rng.getrandbits(64):016x}",
        "user_id": str(user_id),
        "amount": str(amount),  # money travels as a decimal string: no binary float on the way
        "currency": rng.choice(CURRENCIES),
        "status": "pending",
        "payment_method": rng.choice(PAYMENT_METHODS),
        "merchant_category": rng.choice(MERCHANT_CATEGORIES),
        "transaction_timestamp": iso(at),
        "created_at": iso(at),
        "updated_at": iso(at),
        "schema_version": "1.0",
    }


def status_update(previous: dict[str, Any], status: str, at: dt.datetime) -> dict[str, Any]:
    """A later version of a transaction: same id and creation time, new status and updated_at."""
    return {**previous, "status": status, "updated_at": iso(at)}


def metric(rng: random.Random, host: str, at: dt.datetime) -> dict[str, Any]:
    service = rng.choice(sorted(SERVICES))
    name, unit = SERVICES[service]
    return {
        "host": host,
        "service": service,
        "metric_name": name,
        "metric_value": round(rng.uniform(0, 500), 3),
        "unit": unit,
        "metric_timestamp": iso(at),
        "tags": {"region": rng.choice(["us-west-2", "eu-west-1"]), "env": "prod"},
        "schema_version": "1.0",
    }


def amount(rng: random.Random, large_share: float) -> Decimal:
    """Mostly everyday amounts; a `large_share` of them above every fraud threshold."""
    if rng.random() < large_share:
        return Decimal(rng.randint(20_000, 90_000)).quantize(Decimal("0.01"))
    return (Decimal(rng.randint(100, 50_000)) / 100).quantize(Decimal("0.01"))
