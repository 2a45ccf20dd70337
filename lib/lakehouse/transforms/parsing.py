"""Parses Kafka values against a contract and names every failure; nothing turns into null silently.

`from_json` answers a malformed record, a wrong type or trailing garbage with nulls and no word.
So each step that can fail records why, and a record is accepted only if `reasons` stays empty:

1. the envelope: a null value, a value over the size limit;
2. the document, in one strict pass (the `lakehouse_json_scan` UDF, lakehouse.spark.udfs): valid
   UTF-8, exactly one strict JSON object (no single quotes, NaN, trailing content...), no repeated
   key; it yields each contract field's JSON kind and text;
3. each field: present when required, converting to its kind (the JSON kind tells a number from a
   numeric string), inside its allowed set or range, timestamps not before 2020;
4. rules across fields, e.g. `updated_at` not before `created_at`.

Envelope and document failures stop the checks (one reason); field failures are all listed.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType, MapType, StringType

from lakehouse.schemas.contract import MIN_TIMESTAMP, Contract, Field
from lakehouse.spark.udfs import JSON_SCAN

Transform = Callable[[DataFrame], DataFrame]

UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
USER_ID = r"^[1-9][0-9]{0,18}$"
COUNTRY_CODE = r"^[A-Z]{2}$"
ISO_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?$"
# Decimals are read exactly at this width, then must fit the field's precision and scale unchanged.
EXACT_DECIMAL = DecimalType(38, 18)
STRING_MAP = MapType(StringType(), StringType())
# Envelope and document failures: a record's only reason (then the JSON scan's: lakehouse.udf.JsonScan).
NULL_VALUE, RECORD_TOO_LARGE = "null_value", "record_too_large"
ENVELOPE_ERRORS = (NULL_VALUE, RECORD_TOO_LARGE, "invalid_utf8", "malformed_json")
# Bronze columns carried to silver, quarantine and review rows.
COORDINATES = ("topic", "topic_id", "kafka_partition", "kafka_offset", "kafka_timestamp", "key", "ingested_at",
               "ingest_date")
PARSED_COLUMNS = (*COORDINATES, "value")  # the bronze columns parse_records reads


def parse_records(contract: Contract, max_record_bytes: int) -> Transform:
    """Bronze rows -> coordinates, one typed column per contract field, `reasons`, and the raw
    `value` and `value_bytes` (the value only on rejected rows that fit the limit, for quarantine).

    The columns are built at the first call in a Spark application and reused by the next ones: each
    is a call into the JVM, and a contract's few hundred took 50-90 ms of every micro-batch."""
    built: dict[str, ParseColumns] = {}

    def transform(df: DataFrame) -> DataFrame:
        application = df.sparkSession.sparkContext.applicationId
        if application not in built:
            built.clear()
            built[application] = parse_columns(contract, max_record_bytes)
        columns = built[application]
        return (
            df.withColumns(columns.scanned)
            .withColumns(columns.typed)
            .withColumn("reasons", columns.reasons)
            .select(*columns.parsed)
        )

    return transform


@dataclass(frozen=True)
class ParseColumns:
    """parse_records' columns, in the order it adds them (each step reads the ones before)."""

    scanned: dict[str, Column]  # value_bytes and the JSON scan (`_scan`)
    typed: dict[str, Column]    # envelope_error and one column per contract field, converted to its kind
    reasons: Column             # the envelope error alone, or every field and cross-field failure
    parsed: list[Column]        # what parse_records returns


def parse_columns(contract: Contract, max_record_bytes: int) -> ParseColumns:
    """The columns of parse_records (calls into the JVM: build them once per Spark application)."""
    value, size = F.col("value"), F.col("value_bytes")
    names = ",".join(f.name for f in contract.fields)
    scan = F.when(F.octet_length(value) <= max_record_bytes, F.call_udf(JSON_SCAN, value, F.lit(names)))
    envelope_error = (
        F.when(value.isNull(), F.lit(NULL_VALUE))
        .when(size > max_record_bytes, F.lit(RECORD_TOO_LARGE))
        .otherwise(F.col("_scan.error"))
    )
    fields = {f.name: _field_value(f, *_scanned(contract, f)) for f in contract.fields}
    flagged = F.array(*(F.when(failed, F.lit(reason)) for failed, reason in _checks(contract)))
    found = F.array_except(flagged, F.array(F.lit(None).cast("string")))
    return ParseColumns(
        scanned={"value_bytes": F.octet_length(value), "_scan": scan},
        typed={"envelope_error": envelope_error, **fields},
        reasons=F.when(F.col("envelope_error").isNotNull(), F.array("envelope_error")).otherwise(found),
        parsed=[
            *map(F.col, COORDINATES),
            F.when(is_rejected() & (size <= max_record_bytes), value).alias("value"),
            size,
            *(F.col(f.name) for f in contract.fields),
            F.col("reasons"),
        ],
    )


def _checks(contract: Contract) -> list[tuple[Column, str]]:
    """(failed, reason) pairs of every field and cross-field check."""
    checks = [check for f in contract.fields for check in _field_checks(f, contract)]
    checks.append((F.col("_scan.duplicate_key"), "duplicate_field"))
    for earlier, later in contract.not_before:
        checks.append((F.col(later) < F.col(earlier), f"{later}_before_{earlier}"))
    return checks


@cache
def reason_classes(contract: Contract) -> tuple[str, ...]:
    """Every reason class (a reason before its `:field`) parsing can refuse the contract's records for
    (kept per contract: building the checks' columns takes 20-100 ms)."""
    classes = set(ENVELOPE_ERRORS) | {reason.split(":")[0] for _, reason in _checks(contract)}
    return tuple(sorted(classes))


def _scanned(contract: Contract, field: Field) -> tuple[Column, Column]:
    """(JSON kind, text) of the field's value in `_scan`; both null when the field is absent."""
    position = [f.name for f in contract.fields].index(field.name)
    return F.col("_scan.kinds")[position], F.col("_scan.texts")[position]


def _exact_decimal(kind: Column, text: Column) -> Column:
    """A JSON number or numeric string, read exactly (null when it is neither)."""
    return F.when(kind.isin("number", "string"), text.cast(EXACT_DECIMAL))


def _field_value(field: Field, kind: Column, text: Column) -> Column:
    """The field's value converted to its kind; null when absent or not convertible."""
    if field.kind == "uuid":
        return F.lower(text)
    if field.kind == "timestamp":
        return F.when(text.rlike(ISO_TIMESTAMP), text.cast("timestamp"))
    if field.kind == "decimal":
        return _exact_decimal(kind, text).cast(DecimalType(field.precision, field.scale))
    if field.kind == "double":
        number = text.cast("double")
        return F.when((kind == "number") & ~number.isin(float("inf"), float("-inf")), number)
    if field.kind == "json_object":
        return F.when(kind == "object", text)
    if field.kind == "string_map":
        return F.when(kind == "object", F.from_json(text, STRING_MAP))
    return text


def _field_checks(field: Field, contract: Contract) -> list[tuple[Column, str]]:
    """(failed, reason) pairs for one field; `failed` is null or false when the field is fine."""
    kind, text = _scanned(contract, field)
    value = F.col(field.name)
    present = text.isNotNull()
    checks = [(~present, f"missing_field:{field.name}")] if field.required else []
    if field.kind == "uuid":
        checks.append((present & ~text.rlike(UUID), f"invalid_format:{field.name}"))
    elif field.kind == "user_id":
        checks.append((present & ~text.rlike(USER_ID), f"invalid_format:{field.name}"))
    elif field.kind == "country_code":
        checks.append((present & ~text.rlike(COUNTRY_CODE), f"invalid_format:{field.name}"))
    elif field.kind == "enum":
        checks.append((present & ~text.isin(*field.allowed), f"not_allowed:{field.name}"))
    elif field.kind == "schema_version":
        checks.append((present & ~text.rlike(rf"^{contract.major}(\.[0-9]+)*$"), "unsupported_schema_version"))
    elif field.kind == "timestamp":
        checks.append((present & value.isNull(), f"wrong_type:{field.name}"))
        checks.append((value < F.lit(MIN_TIMESTAMP).cast("timestamp"), f"before_2020:{field.name}"))
    elif field.kind == "decimal":
        exact = _exact_decimal(kind, text)
        # Fits: converted without rounding or overflow (a value too wide for the field casts to null).
        fits = exact.isNotNull() & exact.eqNullSafe(value)
        checks.append((present & ~fits, f"wrong_type:{field.name}"))
        if field.minimum is not None:
            checks.append((fits & (value < F.lit(field.minimum).cast(EXACT_DECIMAL)), f"out_of_range:{field.name}"))
        if field.maximum is not None:
            checks.append((fits & (value > F.lit(field.maximum).cast(EXACT_DECIMAL)), f"out_of_range:{field.name}"))
    elif field.kind in ("double", "json_object", "string_map"):
        checks.append((present & value.isNull(), f"wrong_type:{field.name}"))
    return checks


def reason_classes_of() -> Column:
    """The class of each of a row's `reasons` (`missing_field:amount` -> missing_field)."""
    return F.transform("reasons", lambda reason: F.substring_index(reason, ":", 1))


def is_rejected() -> Column:
    return F.size("reasons") > 0


def filter_accepted(df: DataFrame) -> DataFrame:
    """Rows that passed every check."""
    return df.where(~is_rejected())


def filter_rejected(df: DataFrame) -> DataFrame:
    """Rows with at least one reason: they go to quarantine."""
    return df.where(is_rejected())
