"""Generated silver tables for the dbt tests, exactly on the agreed contract (names, types, partitions).

Realistic but small, seeded, with the edge rows the models must handle: nulls, refunded and pending orders,
a customer with a single order, orders on the first and last day of months, a month with no orders, country
names to standardise, short emails and names for the PII masks. Dates are relative to `today`, so freshness
and the real-time window see recent rows. `late_changes` is what a later run of the jobs brings: orders in
the current month, a late refund, a late order for last month, a user who changed their email.
"""
from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Optional

SCHEMAS = {
    "user_events": (
        "event_id string, user_id string, session_id string, event_type string, event_timestamp timestamp, "
        "event_date date, page_url string, referrer string, device_type string, country_code string, "
        "event_properties string, schema_version string, kafka_partition int, kafka_offset bigint, "
        "processed_at timestamp"
    ),
    "transactions": (
        "transaction_id string, user_id string, amount decimal(10,2), currency string, amount_usd decimal(12,2), "
        "status string, payment_method string, merchant_category string, transaction_timestamp timestamp, "
        "transaction_date date, created_at timestamp, updated_at timestamp, is_flagged boolean, "
        "fraud_reasons array<string>, schema_version string, kafka_partition int, kafka_offset bigint, "
        "processed_at timestamp"
    ),
    "users": (
        "user_id bigint, email string, full_name string, country_code string, created_at timestamp, "
        "last_login_at timestamp, updated_at timestamp"
    ),
    "orders": (
        "order_id bigint, customer_id bigint, order_date date, order_total decimal(12,2), status string, "
        "quantity int, created_at timestamp, updated_at timestamp"
    ),
    "accounts": (
        "account_id string, account_name string, industry string, annual_revenue decimal(18,2), "
        "billing_country string, created_at timestamp, updated_at timestamp"
    ),
}
PARTITIONS = {"user_events": ["event_date"], "transactions": ["transaction_date"]}

COUNTRIES = ["US", "usa", "United States", "uk", "Great Britain", "de", "Deutschland", "France", " ca ", "nl",
             "Atlantis", None]
EVENT_TYPES = ["page_view", "page_view", "page_view", "button_click", "cart_add", "purchase", "login", "logout"]
RATES_TO_USD = {"USD": Decimal("1"), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
USERS = 40


@dataclass
class SilverRows:
    """Rows per silver table, as column-name dicts in contract order."""

    tables: dict[str, list[dict]]
    today: date
    now: datetime

    def order_by_id(self, order_id: int) -> dict:
        return next(o for o in self.tables["orders"] if o["order_id"] == order_id)


def utc(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=timezone.utc)


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def month_end(first: date) -> date:
    return month_start(first + timedelta(days=31)) - timedelta(days=1)


def generate_silver_rows(today: date, now: datetime, seed: int = 7) -> SilverRows:
    """Orders in the six complete months before `today`'s month, except the fourth before it (a gap)."""
    rng = random.Random(seed)
    users = _users(rng, now)
    orders = _orders(rng, today, now)
    transactions = _transactions(rng, today, now)
    events = _events(rng, today, now)
    return SilverRows({"users": users, "orders": orders, "transactions": transactions, "user_events": events,
                       "accounts": _accounts(now)}, today, now)


def late_changes(rows: SilverRows, now: datetime) -> SilverRows:
    """The silver tables after a later run of the jobs (a copy; `rows` is left as it was)."""
    tables = {name: [dict(row) for row in table] for name, table in rows.tables.items()}
    today, next_id = rows.today, max(o["order_id"] for o in tables["orders"]) + 1
    current = month_start(today)
    for offset, customer_id in enumerate([3, 5, 8, USERS]):  # USERS: a new customer's first order
        day = min(current + timedelta(days=offset), today)
        tables["orders"].append(_order(next_id + offset, customer_id, day, Decimal("45.50") * (offset + 1),
                                       "completed", offset + 1, now))
    late_month = month_start(today, 1)   # an order for last month's last day, committed only now
    tables["orders"].append(dict(_order(next_id + 10, 12, month_end(late_month), Decimal("310.00"), "completed", 3,
                                        now), created_at=now))
    for order in tables["orders"][-5:]:
        order["updated_at"] = now
    refunded = next(o for o in tables["orders"]
                    if o["status"] == "completed" and month_start(today, 2) <= o["order_date"] < late_month)
    refunded.update(status="refunded", updated_at=now)
    changed_user = next(u for u in tables["users"] if u["user_id"] == 2)
    changed_user.update(email="new.address@example.org", updated_at=now)
    return SilverRows(tables, today, now)


def _users(rng: random.Random, now: datetime) -> list[dict]:
    rows = []
    for user_id in range(1, USERS + 1):
        created = now - timedelta(days=400 - user_id * 3, hours=user_id)
        rows.append({
            "user_id": user_id,
            "email": f"User.{user_id}@Example.com",
            "full_name": f"User Number {user_id}",
            "country_code": COUNTRIES[user_id % len(COUNTRIES)],
            "created_at": created,
            "last_login_at": None if user_id % 9 == 0 else now - timedelta(hours=rng.randint(1, 2000)),
            "updated_at": now - timedelta(hours=user_id),
        })
    rows[0].update(email="a@x.io", full_name="J")   # shorter than what the masks keep
    rows[1].update(email=None, full_name=None)
    return rows


def _order(order_id: int, customer_id: int, day: date, total: Decimal, status: str, quantity, now: datetime) -> dict:
    created = min(utc(day, 9 + order_id % 12, order_id % 60), now)
    updated = created + timedelta(hours=2) if status != "refunded" else created + timedelta(days=3)
    return {"order_id": order_id, "customer_id": customer_id, "order_date": day, "order_total": total,
            "status": status, "quantity": quantity, "created_at": created, "updated_at": min(updated, now)}


def _orders(rng: random.Random, today: date, now: datetime) -> list[dict]:
    rows: list[dict] = []
    months = [month_start(today, back) for back in range(6, 0, -1) if back != 4]   # no orders 4 months ago
    for first in months:
        last = month_end(first)
        days = [first, last] + [first + timedelta(days=rng.randint(1, (last - first).days - 1)) for _ in range(14)]
        for day in days:
            order_id = len(rows) + 1
            status = rng.choices(["completed", "refunded", "pending"], weights=[80, 12, 8])[0]
            customer_id = rng.randint(3, USERS - 1)
            total = Decimal(rng.randint(500, 40000)) / 100
            rows.append(_order(order_id, customer_id, day, total, status, rng.randint(1, 5), now))
    single = len(rows) + 1   # customer 1 orders exactly once
    rows.append(_order(single, 1, months[2] + timedelta(days=4), Decimal("19.99"), "completed", 1, now))
    # Customer 2's only order, still pending: touched an hour ago (the newest change, so orders are fresh).
    rows.append(dict(_order(single + 1, 2, months[-1] + timedelta(days=5), Decimal("120.00"), "pending", None, now),
                     updated_at=now - timedelta(hours=1)))
    rows.append(_order(single + 2, 3, months[-1] + timedelta(days=6), Decimal("75.25"), "completed", None, now))
    return rows


def _transactions(rng: random.Random, today: date, now: datetime) -> list[dict]:
    rows = []
    for number in range(1, 161):
        # Mostly within the real-time window; some just before midnight UTC, some older.
        at = now - timedelta(days=rng.randint(0, 12), hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
        if number % 25 == 0:
            at = utc(at.date(), 23, 59, 59)
        at = min(at, now)
        currency = rng.choice(list(RATES_TO_USD))
        amount = Decimal(rng.randint(100, 90000)) / 100
        flagged = number % 17 == 0
        rows.append({
            "transaction_id": f"txn-{number:05d}",
            "user_id": str(rng.randint(1, USERS)),
            "amount": amount,
            "currency": currency,
            "amount_usd": (amount * RATES_TO_USD[currency]).quantize(Decimal("0.01")),
            "status": rng.choices(["completed", "pending", "failed", "refunded"], weights=[75, 10, 10, 5])[0],
            "payment_method": None if number % 31 == 0 else rng.choice(["card", "paypal", "bank_transfer"]),
            "merchant_category": rng.choice(["electronics", "books", "grocery"]),
            "transaction_timestamp": at,
            "transaction_date": at.date(),
            "created_at": at,
            "updated_at": at + timedelta(seconds=5),
            "is_flagged": flagged,
            "fraud_reasons": ["high_amount", "new_device"] if flagged else ([] if number % 2 else None),
            "schema_version": "1.0",
            "kafka_partition": number % 20,
            "kafka_offset": number,
            "processed_at": min(at + timedelta(seconds=30), now),
        })
    return rows


def _events(rng: random.Random, today: date, now: datetime) -> list[dict]:
    rows = []
    for number in range(1, 301):
        at = min(now - timedelta(days=rng.randint(0, 9), minutes=rng.randint(0, 1439)), now)
        user_id = rng.randint(1, USERS)
        rows.append({
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "user_id": str(user_id),
            "session_id": f"s-{user_id}-{at.date().isoformat()}",
            "event_type": rng.choice(EVENT_TYPES),
            "event_timestamp": at,
            "event_date": at.date(),
            "page_url": f"https://shop.example.com/p/{number % 13}",
            "referrer": None if number % 3 else "https://www.google.com/",
            "device_type": rng.choice(["desktop", "mobile", "tablet"]),
            "country_code": COUNTRIES[number % len(COUNTRIES)],
            "event_properties": json.dumps({"n": number}),
            "schema_version": "1.0",
            "kafka_partition": number % 10,
            "kafka_offset": number,
            "processed_at": min(at + timedelta(seconds=20), now),
        })
    return rows


def _accounts(now: datetime) -> list[dict]:
    def account(number, name, industry, revenue, country):
        return {"account_id": f"001A{number:014d}", "account_name": name, "industry": industry,
                "annual_revenue": revenue, "billing_country": country,
                "created_at": now - timedelta(days=700 + number), "updated_at": now - timedelta(hours=number)}

    return [
        account(1, "Acme Corp", "Manufacturing", Decimal("12500000.00"), "United States"),
        account(2, "Globex", "Technology", Decimal("-1.00"), "uk"),
        account(3, "", None, None, None),
        account(4, "Initech", "Technology", Decimal("0.00"), "Deutschland"),
    ]


def write_silver_tables(spark, lake_root: str, rows: SilverRows, tables: Optional[list[str]] = None) -> None:
    """Overwrites `<lake_root>/silver/<table>` with `rows` (all tables, or `tables`), one Delta commit each."""
    for name in tables or list(SCHEMAS):
        schema = SCHEMAS[name]
        columns = [part.split()[0] for part in schema.split(", ")]
        data = [tuple(row[c] for c in columns) for row in rows.tables[name]]
        frame = spark.createDataFrame(data, schema)
        writer = frame.coalesce(1).write.format("delta").mode("overwrite")
        if name in PARTITIONS:
            writer = writer.partitionBy(*PARTITIONS[name])
        writer.save(f"{lake_root}/silver/{name}")
