"""Daily and monthly revenue recomputed in plain Python from silver order rows, independently of dbt.

The formulas are the platform design's: gross = completed order totals, refunded = refunded order totals,
net = gross - refunded, average order value = gross / completed orders, revenue per customer = net / distinct
customers with an order in the period, new customers = customers whose first order (any status) falls in the
period, growth = change of net revenue against the previous calendar month when that was positive.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from tests.integration.silver_sample import month_start

CENT = Decimal("0.01")
# Measures that divide, then round to the cent; every other measure is a count or an exact sum.
ROUNDED_QUOTIENTS = ("avg_order_value", "revenue_per_customer", "revenue_growth_pct")


def round_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def revenue_by(orders: list[dict], period) -> dict[date, dict]:
    """Revenue measures per `period(order_date)`."""
    first_order = {}
    for order in sorted(orders, key=lambda o: (o["order_date"], o["order_id"])):
        first_order.setdefault(order["customer_id"], order["order_id"])
    groups: dict[date, list[dict]] = defaultdict(list)
    for order in orders:
        groups[period(order["order_date"])].append(order)
    result = {}
    for key, group in groups.items():
        completed = [o for o in group if o["status"] == "completed"]
        refunded = [o for o in group if o["status"] == "refunded"]
        gross = sum((o["order_total"] for o in completed), Decimal(0))
        refunds = sum((o["order_total"] for o in refunded), Decimal(0))
        customers = {o["customer_id"] for o in group}
        net = gross - refunds
        result[key] = {
            "gross_revenue": gross, "refunded_revenue": refunds, "net_revenue": net,
            "completed_orders": len(completed), "refunded_orders": len(refunded),
            "pending_orders": sum(o["status"] == "pending" for o in group),
            "unique_customers": len(customers),
            "new_customers": len({o["customer_id"] for o in group if first_order[o["customer_id"]] == o["order_id"]}),
            "units_sold": sum(o["quantity"] or 0 for o in completed),
            "avg_order_value": round_cents(gross / len(completed)) if completed else Decimal(0),
            "revenue_per_customer": round_cents(net / len(customers)),
        }
    return result


def expected_daily_revenue(orders: list[dict]) -> dict[date, dict]:
    return revenue_by(orders, lambda day: day)


def expected_monthly_revenue(orders: list[dict]) -> dict[date, dict]:
    months = revenue_by(orders, lambda day: day.replace(day=1))
    for month, measures in months.items():
        previous = months.get(month_start(month, 1))
        measures["previous_month_revenue"] = previous["net_revenue"] if previous else None
        grows = previous is not None and previous["net_revenue"] > 0
        measures["revenue_growth_pct"] = (
            round_cents(100 * (measures["net_revenue"] - previous["net_revenue"]) / previous["net_revenue"])
            if grows else None
        )
    return months


def assert_marts_equal(actual: list[dict], expected: dict[date, dict], key: str) -> None:
    """Each period once on each side; counts and sums exactly equal, sums to the cent as Decimals.

    Only the rounded quotients may be a cent apart: the engines divide decimals in floating point
    before rounding (DuckDB: round(0.57 / 2, 2) = 0.28), the recomputation exactly and half-up (0.29).
    """
    assert sorted(row[key] for row in actual) == sorted(expected), f"{key}s differ (or repeat)"
    by_key = {row[key]: row for row in actual}
    for period, measures in expected.items():
        for column, value in measures.items():
            got = by_key[period][column]
            where = f"{period} {column}: mart {got!r}, expected {value!r}"
            if isinstance(got, float):
                # fakesnow sums decimals as DOUBLE (3331.0299999999997): its error is far below half a
                # cent, so rounding to the cent gives back the exact sum, and a wrong cent stays wrong.
                got = Decimal(repr(got)).quantize(CENT, rounding=ROUND_HALF_UP)
            if column in ROUNDED_QUOTIENTS and value is not None and got is not None:
                assert abs(got - value) <= CENT, where
            else:
                assert got == value, where
