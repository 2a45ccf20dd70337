"""Transactions through Kafka, bronze and silver in two runs: versions out of order, FX, fraud, review."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from lakehouse.kafka.producer import EventProducer
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.silver import start_silver
from tests.integration.streaming_support import bronze_options, silver_options, stream_config, table


def txn(transaction_id: str, user: int, minute: int, status: str = "pending", updated_minute=None,
        amount: str = "20.00", currency: str = "USD") -> tuple[bytes, bytes]:
    at = dt.datetime(2024, 6, 1, 12, 0) + dt.timedelta(minutes=minute)
    updated = at + dt.timedelta(minutes=updated_minute or 0)
    body = {"transaction_id": transaction_id, "user_id": str(user), "amount": amount, "currency": currency,
            "status": status, "transaction_timestamp": f"{at.isoformat()}Z", "created_at": f"{at.isoformat()}Z",
            "updated_at": f"{updated.isoformat()}Z", "schema_version": "1.0"}
    return str(user).encode(), json.dumps(body).encode()


def run_round(spark, cfg, records) -> None:
    with EventProducer(cfg) as producer:
        for key, value in records:
            producer.send(cfg.streaming.topics["transaction_events"], key, value)
    start_bronze(spark, cfg, bronze_options("transaction_events")).wait(until_all_done=True)
    start_silver(spark, cfg, silver_options("transaction_events")).wait(until_all_done=True)


def test_newest_version_wins_and_fraud_rules_span_batches(spark, tmp_path, new_topic):
    topic = new_topic(partitions=2, prefix="transactions")
    cfg = stream_config(tmp_path, {"transaction_events": topic})
    run_round(spark, cfg, [
        txn("t1", 1, 0, "refunded", updated_minute=120),   # the last version of t1 arrives first
        *(txn(f"v{i}", 9, i) for i in range(3)),            # user 9: three purchases at 12:00..12:02
    ])
    run_round(spark, cfg, [
        txn("t1", 1, 0, "pending"), txn("t1", 1, 0, "completed", updated_minute=30),   # older versions, late
        txn("t2", 2, 0, "completed", updated_minute=5), txn("t2", 2, 0, "pending"),    # newest first, same batch
        *(txn(f"v{i}", 9, i) for i in range(3, 6)),         # three more: the sixth is the 6th in 10 minutes
        txn("big", 3, 0, amount="9500.00", currency="EUR"),  # over the EUR threshold (9000)
    ])

    silver = {r.transaction_id: r for r in table(spark, cfg, "silver", "transactions").collect()}
    assert (silver["t1"].status, silver["t1"].updated_at) == ("refunded", dt.datetime(2024, 6, 1, 14, 0))
    assert (silver["t2"].status, silver["t2"].updated_at) == ("completed", dt.datetime(2024, 6, 1, 12, 5))
    flagged = {tid: row.fraud_reasons for tid, row in silver.items() if row.is_flagged}
    assert flagged == {"v5": ["velocity"], "big": ["amount_over_threshold"]}
    assert silver["big"].amount_usd == Decimal("10487.05")  # 9500 EUR at the 2024 reference rate 1.1039
    assert silver["v0"].fraud_reasons == []
    review = {r.transaction_id: r.fraud_reasons for r in table(spark, cfg, "silver", "fraud_review").collect()}
    assert review == flagged
    assert table(spark, cfg, "quarantine", "transaction_events").count() == 0
