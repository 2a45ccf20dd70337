"""Transactions priced in USD: the FX step of contracts with the needs_fx_rates capability."""
from __future__ import annotations

from typing import Callable

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType

from lakehouse.transforms.parsing import is_rejected

Transform = Callable[[DataFrame], DataFrame]


def rates_in_force(rates: DataFrame) -> DataFrame:
    """reference.fx_rates rows -> one row per currency and period (`_fx_currency`, `_fx_from`,
    `_fx_until`, `usd_per_unit`): a rate is in force from its rate_date until the currency's next
    rate_date; if the table repeats a (currency, rate_date), the larger rate is used."""
    per_day = rates.groupBy("currency", "rate_date").agg(F.max("usd_per_unit").alias("usd_per_unit"))
    next_rate = F.lead("rate_date").over(Window.partitionBy("currency").orderBy("rate_date"))
    return per_day.select(
        F.col("currency").alias("_fx_currency"),
        F.col("rate_date").alias("_fx_from"),
        next_rate.alias("_fx_until"),
        "usd_per_unit",
    )


FX_RATE_MISSING = "fx_rate_missing"  # the reason of an accepted row without a rate in force


def enrich_amount_usd(rates: DataFrame) -> Transform:
    """Adds `amount_usd`: amount times the USD rate in force on the transaction date, rounded
    half-up to cents.

    `rates` are reference.fx_rates rows, or already their `rates_in_force` (a job keeps those from
    one micro-batch to the next while the table is unchanged). An accepted row with no rate in force
    gets the reason fx_rate_missing, so it goes to quarantine instead of silver with a null amount_usd.
    """
    in_force = rates if "_fx_from" in rates.columns else rates_in_force(rates)

    def transform(df: DataFrame) -> DataFrame:
        on_date = F.to_date("transaction_timestamp")
        matches = (
            (F.col("currency") == F.col("_fx_currency"))
            & (F.col("_fx_from") <= on_date)
            & (F.col("_fx_until").isNull() | (on_date < F.col("_fx_until")))
        )
        joined = df.join(F.broadcast(in_force), matches, "left")
        has_no_rate = ~is_rejected() & F.col("usd_per_unit").isNull()
        with_missing_rate = F.concat("reasons", F.array(F.lit(FX_RATE_MISSING)))
        reasons = F.when(has_no_rate, with_missing_rate).otherwise(F.col("reasons"))
        amount_usd = F.round(F.col("amount") * F.col("usd_per_unit"), 2).cast(DecimalType(12, 2))
        return joined.select(
            *(c for c in df.columns if c != "reasons"), amount_usd.alias("amount_usd"), reasons.alias("reasons")
        )

    return transform

