"""Deterministic synthetic rows for the operational tables (same seed, same rows).

User ids run 1..N, so the `user_id` of Kafka events (the decimal string of an id) joins them.
About one user in seven has never logged in (a NULL last_login_at), as in a real sign-up funnel.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Katherine",
               "Linus", "Margaret", "Niklaus", "Radia", "Tim", "Vint", "Whitfield", "Hedy", "Ken")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Johnson",
              "Torvalds", "Hamilton", "Wirth", "Perlman", "Berners-Lee", "Cerf", "Diffie", "Lamarr", "Thompson")
COUNTRIES = ("US", "US", "US", "GB", "DE", "FR", "CA", "AU", "JP", "BR", "IN", "NL")
STATUSES = ("completed", "pending", "refunded")
STATUS_WEIGHTS = (80, 15, 5)

USER_COLUMNS = ("user_id", "email", "full_name", "country_code", "created_at", "last_login_at", "updated_at")
ORDER_COLUMNS = ("order_id", "customer_id", "order_date", "order_total", "status", "quantity", "created_at",
                 "updated_at")


def user_rows(first_id: int, count: int, rng: random.Random, now: dt.datetime) -> list[tuple]:
    """Users first_id .. first_id + count - 1, created within two years before `now`."""
    rows = []
    for user_id in range(first_id, first_id + count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        created = now - dt.timedelta(seconds=rng.randint(3600, 730 * 86400))
        last_login = None if rng.random() < 0.15 else created + (now - created) * rng.random()
        email = f"{first}.{last}.{user_id}@example.com".lower()
        rows.append((user_id, email, f"{first} {last}", rng.choice(COUNTRIES), created, last_login,
                     max(created, last_login or created)))
    return rows


def order_rows(first_id: int, count: int, user_count: int, rng: random.Random, now: dt.datetime) -> list[tuple]:
    """Orders first_id .. first_id + count - 1 of customers 1..user_count, placed within a year."""
    rows = []
    for order_id in range(first_id, first_id + count):
        created = now - dt.timedelta(seconds=rng.randint(60, 365 * 86400))
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        updated = created if status == "pending" else created + (now - created) * rng.random() / 10
        rows.append((order_id, rng.randint(1, user_count), created.date(), order_total(rng), status,
                     rng.randint(1, 5), created, updated))
    return rows


def order_total(rng: random.Random) -> Decimal:
    """A basket total in dollars and cents, mostly small, sometimes large."""
    return Decimal(round(rng.lognormvariate(4.0, 1.0), 2)).quantize(Decimal("0.01"))
