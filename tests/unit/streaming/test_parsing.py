"""parse_records: every way a record can fail is named, and valid records convert exactly."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from chispa import assert_df_equality

from lakehouse.schemas import CONTRACTS
from lakehouse.transforms.parsing import filter_accepted, filter_rejected, parse_records, reason_classes
from tests.unit.streaming.conftest import bronze_df, payload

EVENT = {
    "event_id": "0F8FAD5B-D9CB-469F-A165-70867728950E", "user_id": "42", "session_id": "s-1",
    "event_type": "page_view", "event_timestamp": "2024-05-31T22:30:00+02:00", "page_url": "/",
    "referrer": None, "device_type": "mobile", "country_code": "GB",
    "event_properties": {"ab": "a", "depth": 3}, "schema_version": "1.0",
}
TXN = {
    "transaction_id": "txn-1", "user_id": "7", "amount": 12.5, "currency": "EUR", "status": "pending",
    "payment_method": "card", "merchant_category": "games", "transaction_timestamp": "2024-06-01T10:00:00Z",
    "created_at": "2024-06-01T10:00:00Z", "updated_at": "2024-06-01T10:00:00Z", "schema_version": "1.0",
}
METRIC = {
    "host": "h1", "service": "api", "metric_name": "latency_ms", "metric_value": 12.5, "unit": "ms",
    "metric_timestamp": "2024-06-01T10:00:00Z", "tags": {"region": "eu", "shard": 3}, "schema_version": "1.0",
}


def assert_reasons(spark, contract: str, values, expected: list[list[str]], max_bytes: int = 1_000_000) -> None:
    """Parses `values` (offsets 0..n-1) and compares each offset's reasons with `expected`."""
    parsed = bronze_df(spark, values).transform(parse_records(CONTRACTS[contract], max_bytes))
    wanted = spark.createDataFrame(list(enumerate(expected)), "kafka_offset long, reasons array<string>")
    assert_df_equality(parsed.select("kafka_offset", "reasons"), wanted, ignore_row_order=True, ignore_nullable=True)


def test_a_valid_event_converts_every_field_and_keeps_coordinates(spark):
    parsed = bronze_df(spark, [payload(**EVENT)]).transform(parse_records(CONTRACTS["user_events"], 10_000))
    row = parsed.first()
    assert row.reasons == []
    assert row.value is None  # raw bytes are kept only for quarantine
    assert row.event_id == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert row.event_timestamp == dt.datetime(2024, 5, 31, 20, 30)  # +02:00 converted to UTC
    assert row.event_properties == '{"ab":"a","depth":3}'
    assert row.referrer is None
    assert (row.topic, row.kafka_partition, row.kafka_offset) == ("t", 0, 0)


def test_envelope_failures_stop_the_checks_with_one_reason(spark):
    too_big = payload(**EVENT, padding="x" * 400)
    values = [None, b'{"event_id": "\xff\xfe"}', too_big, payload(**EVENT)]
    assert_reasons(spark, "user_events", values, max_bytes=400, expected=[
        ["null_value"], ["invalid_utf8"], ["record_too_large"], [],
    ])


def test_strict_json_is_utf8_without_a_byte_order_mark(spark):
    """The JSON parser would read UTF-16/32 (it tells them by their NUL bytes or mark) and skip a
    UTF-8 mark: each of these is the valid event in another encoding, and none is accepted."""
    text = payload(**EVENT).decode()
    codecs = {  # codec: reason (a UTF-16/32 mark holds bytes UTF-8 never has; the rest is NULs and ASCII)
        "utf-8-sig": "malformed_json", "utf-16": "invalid_utf8", "utf-32": "invalid_utf8",
        "utf-16-le": "malformed_json", "utf-16-be": "malformed_json",
        "utf-32-le": "malformed_json", "utf-32-be": "malformed_json",
    }
    values = [text.encode(codec) for codec in codecs]
    reasons = [[reason] for reason in codecs.values()]
    assert_reasons(spark, "user_events", [*values, text.encode()], expected=[*reasons, []])


def test_a_record_over_the_limit_is_not_parsed_nor_copied_to_quarantine(spark):
    parsed = bronze_df(spark, ["x" * 50]).transform(parse_records(CONTRACTS["user_events"], 49))
    row = parsed.first()
    assert (row.reasons, row.value, row.value_bytes) == (["record_too_large"], None, 50)


def test_anything_but_one_strict_json_object_is_malformed(spark):
    texts = [
        '{"event_id": "x"',                       # truncated
        '{"event_id": "x"} trailing',             # content after the object
        '{"a": 1}{"a": 2}',                       # two objects
        '[{"event_id": "x"}]',                    # an array, not an object
        "42", '"text"', "null", "", "   ",        # not an object at all
        "{'event_id': 'x'}",                      # single quotes
        '{"metric": NaN}',                        # not JSON numbers
        '{"a": 0012}',                            # leading zeros
        '{"a": 1,}',                              # trailing comma
    ]
    assert_reasons(spark, "user_events", texts, expected=[["malformed_json"]] * len(texts))


def test_field_failures_are_all_listed(spark):
    bad = {**EVENT, "event_id": "not-a-uuid", "user_id": "0", "event_type": "hover", "country_code": "gbr",
           "event_timestamp": "2019-12-31T23:59:59Z", "event_properties": "plain text", "schema_version": "2.0"}
    assert_reasons(spark, "user_events", [payload(**bad)], expected=[[
        "invalid_format:event_id", "invalid_format:user_id", "not_allowed:event_type",
        "before_2020:event_timestamp", "invalid_format:country_code", "wrong_type:event_properties",
        "unsupported_schema_version",
    ]])


def test_missing_and_null_required_fields_are_named_and_optional_ones_may_be_absent(spark):
    without_id = {k: v for k, v in EVENT.items() if k != "event_id"}
    null_type = {**EVENT, "event_type": None}
    minimal = {k: EVENT[k] for k in ("event_id", "user_id", "event_type", "event_timestamp", "schema_version")}
    assert_reasons(spark, "user_events", [payload(**without_id), payload(**null_type), payload(**minimal)], expected=[
        ["missing_field:event_id"], ["missing_field:event_type"], [],
    ])


def test_timestamps_must_be_iso_8601_and_real_dates(spark):
    values = [payload(**{**EVENT, "event_timestamp": ts})
              for ts in (1717236000, "2024", "2024-02-30T00:00:00Z", "yesterday", "2020-01-01T00:00:00Z")]
    assert_reasons(spark, "user_events", values, expected=[
        ["wrong_type:event_timestamp"], ["wrong_type:event_timestamp"], ["wrong_type:event_timestamp"],
        ["wrong_type:event_timestamp"], [],  # the edge: exactly 2020-01-01 is allowed
    ])


def test_amounts_are_exact_decimals_inside_the_allowed_range(spark):
    amounts = ["lots", {"value": 1}, 12.345, 123456789012.5, 0, 0.001, 1000000.01, "12.50", 0.01, 1000000,
               12345678.9]
    parsed = bronze_df(spark, [payload(**{**TXN, "amount": a}) for a in amounts]).transform(
        parse_records(CONTRACTS["transaction_events"], 10_000))
    rows = parsed.orderBy("kafka_offset").collect()
    assert [r.reasons for r in rows] == [
        ["wrong_type:amount"], ["wrong_type:amount"], ["wrong_type:amount"], ["wrong_type:amount"],
        ["out_of_range:amount"], ["wrong_type:amount"], ["out_of_range:amount"], [], [], [],
        ["out_of_range:amount"],
    ]
    assert [r.amount for r in rows[7:10]] == [Decimal("12.50"), Decimal("0.01"), Decimal("1000000.00")]


def test_transaction_rules_across_fields(spark):
    values = [
        payload(**{**TXN, "updated_at": "2024-06-01T09:59:59Z"}),
        payload(**{**TXN, "currency": "JPY", "status": "lost"}),
        payload(**{**TXN, "updated_at": TXN["created_at"]}),  # edge: equal is fine
    ]
    assert_reasons(spark, "transaction_events", values, expected=[
        ["updated_at_before_created_at"], ["not_allowed:currency", "not_allowed:status"], [],
    ])


def test_metric_values_must_be_json_numbers_and_tags_an_object(spark):
    values = [payload(**METRIC), payload(**{**METRIC, "metric_value": "12.5"}),
              payload(**{**METRIC, "tags": ["a"]}), payload(**{**METRIC, "tags": None, "unit": None})]
    parsed = bronze_df(spark, values).transform(parse_records(CONTRACTS["system_metrics"], 10_000))
    rows = parsed.orderBy("kafka_offset").collect()
    assert [r.reasons for r in rows] == [[], ["wrong_type:metric_value"], ["wrong_type:tags"], []]
    assert rows[0].tags == {"region": "eu", "shard": "3"}


def test_a_new_optional_field_and_minor_version_are_accepted_a_repeated_key_is_not(spark):
    additive = {**EVENT, "schema_version": "1.1", "campaign_id": "spring"}
    repeated = payload(**EVENT)[:-1] + b',"user_id":"43"}'
    assert_reasons(spark, "user_events", [payload(**additive), repeated], expected=[[], ["duplicate_field"]])


def test_accepted_plus_rejected_is_every_input_row(spark):
    values = [payload(**EVENT), None, "{", payload(**{**EVENT, "user_id": None})]
    parsed = bronze_df(spark, values).transform(parse_records(CONTRACTS["user_events"], 10_000))
    accepted = parsed.transform(filter_accepted).select("kafka_offset")
    rejected = parsed.transform(filter_rejected).select("kafka_offset")
    assert_df_equality(accepted.unionByName(rejected), parsed.select("kafka_offset"), ignore_row_order=True)
    assert [r.kafka_offset for r in rejected.collect()] == [1, 2, 3]


def reason_classes_given(spark, contract: str, values, max_bytes: int = 400) -> set[str]:
    parsed = bronze_df(spark, values).transform(parse_records(CONTRACTS[contract], max_bytes))
    return {reason.split(":")[0] for row in parsed.select("reasons").collect() for reason in row.reasons}


def test_reason_classes_name_every_class_a_contracts_records_are_refused_for(spark):
    """Silver counts refused rows per class from this list (lakehouse.streaming.silver_batch.reason_facts):
    records failing in every way each contract can fail give exactly its classes."""
    envelope = [None, b'{"a": "\xff\xfe"}', "x" * 401, "{"]
    bad = {
        "user_events": [
            {**EVENT, "event_id": "not-a-uuid", "event_type": "hover", "event_timestamp": "2019-12-31T23:59:59Z",
             "event_properties": "plain text", "schema_version": "2.0"},
            {k: v for k, v in EVENT.items() if k != "user_id"},
        ],
        "transaction_events": [
            {**TXN, "user_id": "0", "currency": "JPY", "amount": 0, "transaction_timestamp": "2019-12-31T23:59:59Z",
             "updated_at": "2024-06-01T09:59:59Z", "schema_version": "2.0"},
            {**{k: v for k, v in TXN.items() if k != "status"}, "amount": "lots"},
        ],
        "system_metrics": [
            {**METRIC, "metric_value": "12.5", "metric_timestamp": "2019-12-31T23:59:59Z", "schema_version": "2.0"},
            {k: v for k, v in METRIC.items() if k != "host"},
        ],
    }
    for contract, records in bad.items():
        repeated = payload(**records[0])[:-1] + b',"schema_version":"1.0"}'
        values = [*envelope, *(payload(**fields) for fields in records), repeated]

        assert reason_classes_given(spark, contract, values) == set(reason_classes(CONTRACTS[contract])), contract


def test_one_parse_reused_batch_after_batch_parses_each_batch_as_its_own(spark):
    parse = parse_records(CONTRACTS["user_events"], 10_000)   # its columns are built once, then reused
    first = bronze_df(spark, [payload(**EVENT), b"{"]).transform(parse)
    second = bronze_df(spark, [payload(**{**EVENT, "country_code": "gb"})], partition=3).transform(parse)
    assert [(row.kafka_offset, row.reasons, row.event_id) for row in first.orderBy("kafka_offset").collect()] == [
        (0, [], EVENT["event_id"].lower()), (1, ["malformed_json"], None)]
    assert [(row.kafka_partition, row.reasons) for row in second.collect()] == [
        (3, ["invalid_format:country_code"])]
