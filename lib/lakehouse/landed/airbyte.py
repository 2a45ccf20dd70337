"""Transforms of Airbyte's JSON Lines files (S3 destination, one record per line) into bronze and silver.

A line is `{"_airbyte_raw_id": uuid, "_airbyte_extracted_at": epoch ms, "_airbyte_generation_id": n,
"_airbyte_meta": {"sync_id": n, "changes": [...]}, "_airbyte_data": {...the source record...}}`.
Bronze keeps every line as landed (unparseable ones too) with the envelope's fields; silver
parses `_airbyte_data` per stream.
"""
from __future__ import annotations

from lakehouse.sinks.delta import MergeSpec, content_hash

BRONZE_COLUMNS = ("record_id", "raw_id", "extracted_at", "sync_id", "generation_id", "value", "source_file")
ENVELOPE_SCHEMA = (
    "_airbyte_raw_id string, _airbyte_extracted_at long, _airbyte_generation_id long, "
    "_airbyte_meta struct<sync_id: long>"
)
# A wide decimal reads the JSON number exactly (a string field would go through a double); the
# cast to the contract's decimal(18,2) then nulls an overflow in that field only.
ACCOUNT_SCHEMA = (
    "_airbyte_data struct<Id: string, Name: string, Industry: string, AnnualRevenue: decimal(38,10), "
    "BillingCountry: string, CreatedDate: string, LastModifiedDate: string>"
)
ACCOUNT_COLUMNS = ("account_id", "account_name", "industry", "annual_revenue", "billing_country", "created_at",
                   "updated_at")
# The latest LastModifiedDate wins; two versions with the same one, the greater content hash: one
# order that silver's MERGE and a batch's dedup share, so the row kept never depends on the batching.
ACCOUNTS_MERGE = MergeSpec(keys=("account_id",), newer_column="updated_at",
                           tie_breakers=(content_hash(ACCOUNT_COLUMNS),))


def parse_airbyte_envelope(df):
    """(value, source_file) lines -> bronze rows; `record_id` is Airbyte's raw id, or for a line
    that does not parse, a hash of its file and text (so a replay still finds it). Blank (or
    null) lines, which JSON Lines readers skip, are dropped."""
    from pyspark.sql import functions as F

    envelope = F.from_json("value", ENVELOPE_SCHEMA)
    fallback_id = F.concat(F.lit("unparsed:"), F.sha2(F.concat_ws("\n", "source_file", "value"), 256))
    is_blank = F.coalesce(F.trim(F.col("value")), F.lit("")) == ""
    return df.where(~is_blank).withColumn("_envelope", envelope).select(
        F.coalesce(F.col("_envelope._airbyte_raw_id"), fallback_id).alias("record_id"),
        F.col("_envelope._airbyte_raw_id").alias("raw_id"),
        F.timestamp_millis(F.col("_envelope._airbyte_extracted_at")).alias("extracted_at"),
        F.col("_envelope._airbyte_meta.sync_id").alias("sync_id"),
        F.col("_envelope._airbyte_generation_id").alias("generation_id"),
        "value",
        "source_file",
    )


def with_account_fields(df):
    """Adds the silver.accounts columns parsed from a bronze row's Salesforce Account record."""
    from pyspark.sql import functions as F

    data = F.from_json("value", ACCOUNT_SCHEMA)["_airbyte_data"]
    return df.select(
        "*",
        data["Id"].alias("account_id"),
        data["Name"].alias("account_name"),
        data["Industry"].alias("industry"),
        data["AnnualRevenue"].cast("decimal(18,2)").alias("annual_revenue"),
        data["BillingCountry"].alias("billing_country"),
        F.to_timestamp(data["CreatedDate"]).alias("created_at"),
        F.to_timestamp(data["LastModifiedDate"]).alias("updated_at"),
    )


def filter_incomplete_accounts(df):
    """Drops records without an Id or a LastModifiedDate: they can be neither keyed nor ordered."""
    from pyspark.sql import functions as F

    is_complete = F.col("account_id").isNotNull() & F.col("updated_at").isNotNull()
    return df.where(is_complete).select(*df.columns)


def to_silver_accounts(df):
    """Bronze rows -> silver.accounts: one row per account, the version ACCOUNTS_MERGE keeps, in the
    contract's columns."""
    from lakehouse.transforms.dedup import dedupe_by_version

    return (
        df.transform(with_account_fields)
        .transform(filter_incomplete_accounts)
        .select(*ACCOUNT_COLUMNS)
        .transform(dedupe_by_version(ACCOUNTS_MERGE))
    )
