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
    """Counts must be equal, amounts within a cent; every period of one side must be on the other."""
    by_key = {row[key]: row for row in actual}
    assert sorted(by_key) == sorted(expected), f"{key}s differ"
    for period, measures in expected.items():
        for column, value in measures.items():
            got = by_key[period][column]
            if value is None or isinstance(value, int):
                assert got == value, f"{period} {column}: mart {got}, expected {value}"
            else:
                assert got is not None, f"{period} {column}: mart null, expected {value}"
                assert abs(Decimal(got) - value) <= CENT, f"{period} {column}: mart {got}, expected {value}"
