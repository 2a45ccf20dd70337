"""The properties of a target the extract creates: file statistics only on the columns something filters by."""
from __future__ import annotations

import dataclasses

from lakehouse.extract.identifiers import SourceColumn, SourceTable
from lakehouse.extract.modes import TableRun, target_properties


def run_of(cfg, *names: str) -> TableRun:
    spec = cfg.extract.tables["orders"]  # silver.orders: person column customer_id, Z-ordered by customer_id
    columns = tuple(SourceColumn(name, "bigint" if name.endswith("id") else "text", True) for name in names)
    source = SourceTable("public", "orders", columns, ("order_id",), "updated_at")
    return TableRun("orders", spec, source, "/lake/silver/orders", "delay", 1.0)


def test_statistics_cover_the_key_cursor_person_and_z_order_columns_once(cfg):
    run = run_of(cfg, "order_id", "customer_id", "status", "updated_at", "odd`name")

    assert target_properties(cfg, run) == {"delta.dataSkippingStatsColumns": "`order_id`,`updated_at`,`customer_id`"}


def test_a_column_the_source_lacks_gets_no_statistics(cfg):
    run = run_of(cfg, "order_id", "updated_at", "note")

    assert target_properties(cfg, run) == {"delta.dataSkippingStatsColumns": "`order_id`,`updated_at`"}


def test_a_quoted_name_keeps_its_backticks_doubled(cfg):
    run = run_of(cfg, "odd`id", "updated_at")
    run = dataclasses.replace(run, source=dataclasses.replace(run.source, primary_key=("odd`id",)))

    assert target_properties(cfg, run) == {"delta.dataSkippingStatsColumns": "`odd``id`,`updated_at`"}
