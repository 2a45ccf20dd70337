"""Parses Kafka values against a contract and names every failure; nothing turns into null silently.

`from_json` answers a malformed record, a wrong type or trailing garbage with nulls and no word.
So each step that can fail records why, and a record is accepted only if `reasons` stays empty:

1. the envelope: a null value, a value over the size limit, bytes that are not UTF-8;
2. the document: it must be exactly one JSON object (checked by parsing it wrapped in `[...]`,
   which also rejects trailing content), strict JSON (no single quotes, no NaN), no repeated keys;
3. each field: present when required, converting to its kind (a typed parse with partial results
   tells which field failed), inside its allowed set or range, timestamps not before 2020;
4. rules across fields, e.g. `updated_at` not before `created_at`.

Envelope and document failures stop the checks (one reason); field failures are all listed.
"""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DecimalType, DoubleType, MapType, StringType, StructField, StructType

from lakehouse.schemas.contract import MIN_TIMESTAMP, Contract, Field

Transform = Callable[[DataFrame], DataFrame]

JSON_OPTIONS = {
    "mode": "PERMISSIVE",
    "allowSingleQuotes": "false",
    "allowNonNumericNumbers": "false",
    "columnNameOfCorruptRecord": "_corrupt_record",
}
UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
USER_ID = r"^[1-9][0-9]{0,18}$"
COUNTRY_CODE = r"^[A-Z]{2}$"
ISO_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?$"
# Decimals are parsed exactly at this width, then must fit the field's precision and scale unchanged.
EXACT_DECIMAL = DecimalType(38, 18)
TYPED_KINDS = {
    "decimal": EXACT_DECIMAL,
    "double": DoubleType(),
    "json_object": MapType(StringType(), StringType()),
    "string_map": MapType(StringType(), StringType()),
}
# Bronze columns carried to silver, quarantine and review rows.
COORDINATES = ("topic", "kafka_partition", "kafka_offset", "kafka_timestamp", "key", "ingested_at", "ingest_date")


def parse_records(contract: Contract, max_record_bytes: int) -> Transform:
    """Bronze rows -> coordinates, one typed column per contract field, `reasons`, and the raw
    `value` and `value_bytes` (the value only on rejected rows that fit the limit, for quarantine)."""

    def transform(df: DataFrame) -> DataFrame:
        return (
            df.transform(_with_payload_text(max_record_bytes))
            .transform(_with_parsed_payload(contract))
            .transform(_with_contract_fields(contract))
            .transform(_with_reasons(contract))
            .select(
                *COORDINATES,
                F.when(is_rejected() & (F.col("value_bytes") <= max_record_bytes), F.col("value")).alias("value"),
                "value_bytes",
                *(f.name for f in contract.fields),
                "reasons",
            )
        )

    return transform


def _with_payload_text(max_record_bytes: int) -> Transform:
    """Adds `value_bytes`, `envelope_error` (null_value, record_too_large, invalid_utf8) and
    `payload`, the value decoded as UTF-8 when the envelope is sound."""

    def transform(df: DataFrame) -> DataFrame:
        value = F.col("value")
        decoded = F.decode(value, "UTF-8")
        # Spark replaces invalid bytes with U+FFFD; valid UTF-8 is the only input that survives a round trip.
        is_valid_utf8 = F.encode(decoded, "UTF-8") == value
        envelope_error = (
            F.when(value.isNull(), F.lit("null_value"))
            .when(F.octet_length(value) > max_record_bytes, F.lit("record_too_large"))
            .when(~is_valid_utf8, F.lit("invalid_utf8"))
        )
        return (
            df.withColumn("value_bytes", F.octet_length(value))
            .withColumn("envelope_error", envelope_error)
            .withColumn("payload", F.when(F.col("envelope_error").isNull(), decoded))
        )

    return transform


def _with_parsed_payload(contract: Contract) -> Transform:
    """Adds `raw` (every contract field as JSON text), `typed` (numeric and object fields parsed
    to their types, field by field) and `payload_keys`; a payload that is not exactly one strict
    JSON object sets `envelope_error` to malformed_json."""
    raw_schema = StructType([StructField(f.name, StringType()) for f in contract.fields])
    typed_schema = StructType(
        [StructField(f.name, TYPED_KINDS[f.kind]) for f in contract.fields if f.kind in TYPED_KINDS]
        + [StructField("_corrupt_record", StringType())]
    )

    def transform(df: DataFrame) -> DataFrame:
        payload = F.col("payload")
        wrapped = F.col("_wrapped")  # a column of its own, so the document is parsed once, not per use
        is_one_object = (F.size(wrapped) == 1) & F.get(wrapped, 0).isNotNull()
        malformed = payload.isNotNull() & ~F.coalesce(is_one_object, F.lit(False))
        return (
            df.withColumn("_wrapped", F.from_json(F.concat(F.lit("["), payload, F.lit("]")), ArrayType(raw_schema),
                                                  JSON_OPTIONS))
            .withColumn("raw", F.when(is_one_object, F.get(wrapped, 0)))
            .withColumn("typed", F.when(is_one_object, F.from_json(payload, typed_schema, JSON_OPTIONS)))
            .withColumn("payload_keys", F.when(is_one_object, F.json_object_keys(payload)))
            .withColumn("envelope_error", F.coalesce("envelope_error", F.when(malformed, F.lit("malformed_json"))))
        )

    return transform


def _with_contract_fields(contract: Contract) -> Transform:
    """Adds one column per contract field, converted to its kind (null where it does not convert)."""

    def transform(df: DataFrame) -> DataFrame:
        return df.withColumns({f.name: _field_value(f) for f in contract.fields})

    return transform


def _with_reasons(contract: Contract) -> Transform:
    """Adds `reasons`: the envelope error alone, or every field and cross-field failure."""

    def transform(df: DataFrame) -> DataFrame:
        checks = [check for f in contract.fields for check in _field_checks(f, contract)]
        keys = F.col("payload_keys")
        checks.append((F.size(keys) != F.size(F.array_distinct(keys)), "duplicate_field"))
        for earlier, later in contract.not_before:
            checks.append((F.col(later) < F.col(earlier), f"{later}_before_{earlier}"))
        flagged = F.array(*(F.when(failed, F.lit(reason)) for failed, reason in checks))
        found = F.filter(flagged, lambda reason: reason.isNotNull())
        return df.withColumn(
            "reasons", F.when(F.col("envelope_error").isNotNull(), F.array("envelope_error")).otherwise(found)
        )

    return transform


def _field_value(field: Field) -> Column:
    """The field's value converted to its kind; null when absent or not convertible."""
    raw = F.col("raw")[field.name]
    if field.kind == "uuid":
        return F.lower(raw)
    if field.kind == "timestamp":
        return F.when(raw.rlike(ISO_TIMESTAMP), raw.cast("timestamp"))
    if field.kind == "decimal":
        return F.col("typed")[field.name].cast(DecimalType(field.precision, field.scale))
    if field.kind in ("double", "string_map"):
        return F.col("typed")[field.name]
    return raw


def _field_checks(field: Field, contract: Contract) -> list[tuple[Column, str]]:
    """(failed, reason) pairs for one field; `failed` is null or false when the field is fine."""
    raw = F.col("raw")[field.name]
    value = F.col(field.name)
    present = raw.isNotNull()
    checks = [(~present, f"missing_field:{field.name}")] if field.required else []
    if field.kind == "uuid":
        checks.append((present & ~raw.rlike(UUID), f"invalid_format:{field.name}"))
    elif field.kind == "user_id":
        checks.append((present & ~raw.rlike(USER_ID), f"invalid_format:{field.name}"))
    elif field.kind == "country_code":
        checks.append((present & ~raw.rlike(COUNTRY_CODE), f"invalid_format:{field.name}"))
    elif field.kind == "enum":
        checks.append((present & ~raw.isin(*field.allowed), f"not_allowed:{field.name}"))
    elif field.kind == "schema_version":
        checks.append((present & ~raw.rlike(rf"^{contract.major}(\.[0-9]+)*$"), "unsupported_schema_version"))
    elif field.kind == "timestamp":
        checks.append((present & value.isNull(), f"wrong_type:{field.name}"))
        checks.append((value < F.lit(MIN_TIMESTAMP).cast("timestamp"), f"before_2020:{field.name}"))
    elif field.kind == "decimal":
        exact = F.col("typed")[field.name]
        # Fits: converted without rounding or overflow (a value too wide for the field casts to null).
        fits = exact.isNotNull() & exact.eqNullSafe(value)
        checks.append((present & ~fits, f"wrong_type:{field.name}"))
        if field.minimum is not None:
            checks.append((fits & (value < F.lit(field.minimum).cast(EXACT_DECIMAL)), f"out_of_range:{field.name}"))
        if field.maximum is not None:
            checks.append((fits & (value > F.lit(field.maximum).cast(EXACT_DECIMAL)), f"out_of_range:{field.name}"))
    elif field.kind in TYPED_KINDS:
        checks.append((present & F.col("typed")[field.name].isNull(), f"wrong_type:{field.name}"))
    return checks


def is_rejected() -> Column:
    return F.size("reasons") > 0


def filter_accepted(df: DataFrame) -> DataFrame:
    """Rows that passed every check."""
    return df.where(~is_rejected())


def filter_rejected(df: DataFrame) -> DataFrame:
    """Rows with at least one reason: they go to quarantine."""
    return df.where(is_rejected())
