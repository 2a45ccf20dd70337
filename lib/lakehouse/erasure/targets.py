"""Which lake tables hold a person's records, and how a row names its person.

Asked of the contracts and the config, never listed by name: a Kafka contract with a field of kind
`user_id` puts people in bronze.<contract> and quarantine.<contract> (raw bytes: the id is read out
of the JSON value), in silver.<silver_table> and, with the fraud review, in silver.fraud_review;
an extract table with `person_column` puts them in its target table. silver.accounts (companies)
and system_metrics (hosts) hold no person.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from lakehouse.config import Config
from lakehouse.schemas import CONTRACTS, Contract

# The dbt source reading each silver table (dbt/models/staging/_sources.yml): after an erasure, the
# models built from it, `+` its descendants, need a full refresh.
DBT_SOURCES = {
    "silver.user_events": "source:events.user_events+",
    "silver.transactions": "source:transactions.transactions+",
    "silver.users": "source:users.users+",
    "silver.orders": "source:orders.orders+",
}


@dataclass(frozen=True)
class ErasureTarget:
    """One table to erase from.

    Attributes:
        name: `<layer>.<table>`.
        path: the Delta table's location.
        column: the column naming the person; with `raw`, the JSON field of the `value` bytes.
        raw: rows are Kafka records (bronze, quarantine): the id is parsed out of `value`, and rows
            it cannot be parsed out of are counted as unattributed, never guessed.
        append_only: the table has `delta.appendOnly=true`, lifted for the erasure's commit only.
    """

    name: str
    path: str
    column: str
    raw: bool = False
    append_only: bool = False

    @property
    def dbt_selector(self) -> Optional[str]:
        return DBT_SOURCES.get(self.name)


def person_field(contract: Contract) -> Optional[str]:
    """The contract's field naming a person (kind `user_id`), or None."""
    return next((f.name for f in contract.fields if f.kind == "user_id"), None)


def erasure_targets(cfg: Config) -> list[ErasureTarget]:
    """Every table of the configured contracts and extracts that holds people, bronze first."""
    contracts = [(CONTRACTS[name], person_field(CONTRACTS[name])) for name in cfg.streaming.topics]
    people = [(contract, column) for contract, column in contracts if column is not None]
    path = cfg.lake.table_path
    targets = [ErasureTarget(f"bronze.{c.name}", path("bronze", c.name), column, raw=True, append_only=True)
               for c, column in people]
    targets += [ErasureTarget(f"quarantine.{c.name}", path("quarantine", c.name), column, raw=True)
                for c, column in people]
    targets += [ErasureTarget(f"silver.{c.silver_table}", path("silver", c.silver_table), column)
                for c, column in people]
    if any(c.fraud_review for c, _ in people):
        targets.append(ErasureTarget("silver.fraud_review", path("silver", "fraud_review"), "user_id"))
    targets += [ErasureTarget(f"{t.target_layer}.{t.target_name}", path(t.target_layer, t.target_name),
                              t.person_column)
                for t in cfg.extract.tables.values() if t.person_column]
    return targets
