"""Transforms of Airbyte's landed lines into bronze and silver.accounts, with chispa."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

from chispa import assert_df_equality

from lakehouse.landed.airbyte import parse_airbyte_envelope, to_silver_accounts
from lakehouse.landed.ingest import bronze_schema

RAW_ID = "6f1c2f6e-9a4e-4e58-9d0b-6b5d9b0c4a11"
FILE = "s3://lake/raw/salesforce/account/2024_05_01_1714550400000_0.jsonl"
UTC = dt.timezone.utc
T = dt.datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def line(data: dict, raw_id: str = RAW_ID, extracted_ms: int = 1714550400000, **envelope) -> str:
    return json.dumps({"_airbyte_raw_id": raw_id, "_airbyte_extracted_at": extracted_ms,
                       "_airbyte_generation_id": 3, "_airbyte_meta": {"sync_id": 7, "changes": []},
                       "_airbyte_data": data, **envelope})


def test_parse_airbyte_envelope_keeps_every_line_and_keys_unparsable_ones_by_content(spark):
    good = line({"Id": "001A"})
    truncated = '{"_airbyte_raw_id": "6f1c'
    epoch = line({"Id": "001B"}, raw_id="r-epoch", extracted_ms=0, _airbyte_meta=None)
    source = spark.createDataFrame([(good, FILE), (truncated, FILE), (epoch, FILE), ("   ", FILE), (None, FILE)],
                                   "value string, source_file string")
    unparsed = "unparsed:" + hashlib.sha256(f"{FILE}\n{truncated}".encode()).hexdigest()
    expected = spark.createDataFrame([
        (RAW_ID, RAW_ID, dt.datetime(2024, 5, 1, 8, 0, tzinfo=UTC), 7, 3, good, FILE),
        (unparsed, None, None, None, None, truncated, FILE),        # the null row: nothing parsed
        ("r-epoch", "r-epoch", dt.datetime(1970, 1, 1, tzinfo=UTC), None, 3, epoch, FILE),  # edge: epoch 0, no meta
    ], "record_id string, raw_id string, extracted_at timestamp, sync_id long, generation_id long, "
       "value string, source_file string")
    assert_df_equality(source.transform(parse_airbyte_envelope), expected, ignore_row_order=True,
                       ignore_nullable=True)


def bronze_row(data: dict, raw_id: str, extracted_at: dt.datetime, text=None):
    value = text if text is not None else line(data, raw_id)
    return (raw_id, raw_id, extracted_at, 7, 3, value, FILE, extracted_at)


def account(account_id, modified: str, name="Acme", revenue=None, created="2023-01-01T00:00:00.000Z"):
    return {"Id": account_id, "Name": name, "Industry": "Retail", "AnnualRevenue": revenue,
            "BillingCountry": "France", "CreatedDate": created, "LastModifiedDate": modified}


def test_to_silver_accounts_keeps_the_latest_version_of_each_complete_account(spark):
    edge_revenue = line(account("001E", "2024-05-01T09:00:00.000Z"), "e1").replace('"AnnualRevenue": null',
                                                                               '"AnnualRevenue": 9999999999999999.99')
    overflow = line(account("001F", "2024-05-01T09:00:00.000Z"), "f1").replace('"AnnualRevenue": null',
                                                                           '"AnnualRevenue": 1e16')
    bronze = spark.createDataFrame([
        bronze_row(account("001A", "2024-05-01T09:00:00.000Z", "Acme", 10), "a1", T),
        bronze_row(account("001A", "2024-05-01T10:00:00.000+0000", "Acme Corp", 1200.5), "a2", T),
        bronze_row(account(None, "2024-05-01T09:00:00.000Z"), "n1", T),                 # null Id: dropped
        bronze_row(account("001C", None), "c1", T),                                      # no LastModifiedDate
        bronze_row({}, "x1", T, text='{"_airbyte_raw_id": "x1"'),                       # unparsable line
        bronze_row({}, "e1", T, text=edge_revenue),                                       # decimal(18,2)'s largest
        bronze_row({}, "f1", T, text=overflow),                                           # overflow: null revenue
    ], bronze_schema())
    created = dt.datetime(2023, 1, 1, tzinfo=UTC)
    expected = spark.createDataFrame([
        ("001A", "Acme Corp", "Retail", Decimal("1200.50"), "France", created, T + dt.timedelta(hours=1)),
        ("001E", "Acme", "Retail", Decimal("9999999999999999.99"), "France", created, T),
        ("001F", "Acme", "Retail", None, "France", created, T),
    ], "account_id string, account_name string, industry string, annual_revenue decimal(18,2), "
       "billing_country string, created_at timestamp, updated_at timestamp")
    assert_df_equality(bronze.transform(to_silver_accounts), expected, ignore_row_order=True, ignore_nullable=True)


def test_two_versions_with_one_last_modified_date_give_one_row_whatever_their_order(spark):
    """Not the later extraction: silver's MERGE cannot see it, so a batch could keep one and the MERGE
    another. Both keep the greater content hash (ACCOUNTS_MERGE)."""
    versions = [bronze_row(account("001B", "2024-05-01T09:00:00.000Z", name), raw_id, T + dt.timedelta(hours=hour))
                for name, raw_id, hour in (("first sync", "b1", 0), ("re-sync", "b2", 6), ("third", "b3", 3))]
    kept = {tuple(spark.createDataFrame(order, bronze_schema()).transform(to_silver_accounts).collect())
            for order in (versions, versions[::-1], versions[1:] + versions[:1])}
    assert len(kept) == 1
    ((row,),) = kept
    assert row.account_name in {"first sync", "re-sync", "third"}
