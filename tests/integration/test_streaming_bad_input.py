"""Bad records never stop the pipeline and never vanish: each is quarantined with its reasons and offset.

Bronze and silver run as processing-time queries (in this process) while the records arrive; the
test waits until every produced record is accounted for, then checks good + quarantined = produced,
that every quarantined row names its Kafka offset, and that the queries are still the same running
ones. A second test changes the schema under the running queries: an additive change flows through
to silver, an incompatible one goes to quarantine, with no restart.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

from lakehouse.kafka.producer import EventProducer
from lakehouse.streaming.bronze import start_bronze
from lakehouse.streaming.silver import start_silver
from tests.integration.streaming_support import bronze_options, silver_options, stream_config, table, wait_for

GOOD = {
    "transaction_id": "good-1", "user_id": "7", "amount": "12.50", "currency": "EUR", "status": "pending",
    "payment_method": "card", "merchant_category": "games", "transaction_timestamp": "2024-06-01T10:00:00Z",
    "created_at": "2024-06-01T10:00:00Z", "updated_at": "2024-06-01T10:00:00Z", "schema_version": "1.0",
}


def body(**changes) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def without(field: str, **changes) -> bytes:
    return json.dumps({k: v for k, v in {**GOOD, **changes}.items() if k != field}).encode()


# (name, key, value, reasons expected or None when the record must reach silver)
BAD_INPUT = [
    ("valid", b"7", body(), None),
    ("malformed JSON", b"7", b'{"transaction_id": "bad-1", "amount": ', ["malformed_json"]),
    ("wrong types", b"7", body(transaction_id="bad-2", amount={"value": 1}, created_at=17e8, updated_at=17e8),
     ["wrong_type:amount", "wrong_type:created_at", "wrong_type:updated_at"]),
    ("null value", b"7", None, ["null_value"]),
    ("null key", None, body(transaction_id="good-2"), None),
    ("invalid UTF-8", b"7", body(transaction_id="bad-3").replace(b"games", b"g\xc3\x28mes"), ["invalid_utf8"]),
    ("over 1 MB", b"7", body(transaction_id="bad-4", merchant_category="x" * (1024 * 1024)), ["record_too_large"]),
    ("extra field", b"7", body(transaction_id="good-3", loyalty_tier="gold"), None),
    ("missing required field", b"7", without("currency", transaction_id="bad-5"), ["missing_field:currency"]),
]


@pytest.fixture(scope="module")
def pipeline(spark, tmp_path_factory, kafka_service):
    """Bronze and silver for transaction_events, running on a processing-time trigger."""
    from confluent_kafka.admin import AdminClient, NewTopic

    from lakehouse.kafka.client import client_config
    from tests.conftest import unique_name

    tmp = tmp_path_factory.mktemp("bad_input")
    topic = unique_name("bad_input")
    cfg = stream_config(tmp, {"transaction_events": topic})
    admin = AdminClient(client_config(cfg))
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(timeout=30)
    bronze = start_bronze(spark, cfg, bronze_options("transaction_events", trigger="processing-time"))
    silver = start_silver(spark, cfg, silver_options("transaction_events", trigger="processing-time"))
    try:
        yield cfg, bronze, silver
    finally:
        silver.stop()
        bronze.stop()
        admin.delete_topics([topic])[topic].result(timeout=30)


def produce(cfg, cases) -> dict[int, tuple[int, int]]:
    """Sends the cases in order; returns case index -> (partition, offset)."""
    with EventProducer(cfg) as producer:
        for index, (_, key, value, _) in enumerate(cases):
            producer.send(cfg.streaming.topics["transaction_events"], key, value, tag=index)
    return producer.report.positions


def healthy(*runs):
    def check():
        for run in runs:
            for query in run.queries:
                assert query.isActive, f"{query.name} stopped: {query.exception()}"
    return check


def accounted(spark, cfg, positions) -> tuple[list, list]:
    """Silver rows, and quarantined ((partition, offset), reasons), of these positions: a row written
    twice is there twice."""
    wanted = set(positions.values())
    silver = [r for r in table(spark, cfg, "silver", "transactions").collect()
              if (r.kafka_partition, r.kafka_offset) in wanted]
    quarantined = [((r.kafka_partition, r.kafka_offset), r.reasons)
                   for r in table(spark, cfg, "quarantine", "transaction_events").collect()
                   if (r.kafka_partition, r.kafka_offset) in wanted]
    return silver, quarantined


def seen(spark, cfg, positions) -> int:
    """How many of these positions are in silver or quarantine (however often)."""
    good, quarantined = accounted(spark, cfg, positions)
    return len({(r.kafka_partition, r.kafka_offset) for r in good} | {position for position, _ in quarantined})


def test_every_bad_record_is_quarantined_with_its_offset_and_the_queries_keep_running(spark, pipeline):
    cfg, bronze, silver = pipeline
    positions = produce(cfg, BAD_INPUT)
    expected_good = sum(reasons is None for *_, reasons in BAD_INPUT)
    wait_for(lambda: seen(spark, cfg, positions) == len(BAD_INPUT), 180,
             "every record in silver or quarantine", healthy(bronze, silver))

    good, quarantined = accounted(spark, cfg, positions)
    print(f"\nproduced {len(BAD_INPUT)}: {len(good)} in silver, {len(quarantined)} quarantined")
    assert len(good) + len(quarantined) == len(BAD_INPUT)
    assert len(good) == expected_good
    for index, (name, _, _, reasons) in enumerate(BAD_INPUT):
        position = positions[index]
        found = [why for at, why in quarantined if at == position]
        if reasons is None:
            assert found == [], f"{name} was quarantined: {found}"
        else:
            assert found == [reasons], f"{name} at {position}"
    assert Counter(r.transaction_id for r in good) == Counter(["good-1", "good-2", "good-3"])
    oversize = table(spark, cfg, "quarantine", "transaction_events").where("value_bytes > 1048576").collect()
    assert [(r.kafka_partition, r.kafka_offset, r.value) for r in oversize] == [(*positions[6], None)]
    healthy(bronze, silver)()


def test_schema_changes_under_running_queries_additive_flows_incompatible_is_quarantined(spark, pipeline):
    cfg, bronze, silver = pipeline
    run_ids = [q.runId for q in bronze.queries + silver.queries]
    cases = [
        ("additive, v1.1", b"8", body(transaction_id="v11-1", schema_version="1.1", loyalty_tier="gold"), None),
        ("incompatible, v2.0", b"8", body(transaction_id="v20-1", schema_version="2.0", amount={"cents": 1250}),
         ["wrong_type:amount", "unsupported_schema_version"]),
    ]
    positions = produce(cfg, cases)
    wait_for(lambda: seen(spark, cfg, positions) == 2, 120, "both versions processed", healthy(bronze, silver))
    good, quarantined = accounted(spark, cfg, positions)
    assert [(r.transaction_id, r.schema_version) for r in good] == [("v11-1", "1.1")]
    assert quarantined == [(positions[1], ["wrong_type:amount", "unsupported_schema_version"])]
    assert [q.runId for q in bronze.queries + silver.queries] == run_ids  # no restart
    healthy(bronze, silver)()
