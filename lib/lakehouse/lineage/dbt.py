"""OpenLineage events of a dbt invocation, from its manifest.json and run_results.json.

One run per model or snapshot dbt built: its inputs are the relations it depends on, its output its
own relation. A source with `meta.delta_table_path` (the lake's silver tables, dbt/models/staging/
_sources.yml) is named by that path, as the Spark jobs name the tables they write, so the graph runs
from the Kafka topic to the marts. (openlineage-dbt's `dbt-ol` would name those sources as warehouse
relations, disconnected from the lake; it is not installed for that reason and to keep the pins.)
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Optional

from lakehouse.lineage.client import emit, run_event
from lakehouse.lineage.datasets import DatasetName, lake_dataset

BUILT = ("model.", "snapshot.")
STATES = {"success": "COMPLETE", "error": "FAIL"}


def dbt_run_events(manifest: Mapping, run_results: Mapping, namespace: str, warehouse: str,
                   parent: Optional[Mapping[str, str]] = None) -> Iterator:
    """START and COMPLETE (or FAIL) per built node, jobs named `dbt.<node name>` in `namespace`.

    Args:
        warehouse: the namespace of the warehouse's relations, e.g. duckdb:///path/file.duckdb.
        parent: the Airflow task's run (lakehouse.lineage.client.PARENT_CONF keys), if any.
    """
    from openlineage.client.uuid import generate_new_uuid

    for result in run_results["results"]:
        unique_id, state = result["unique_id"], STATES.get(result["status"])
        if not unique_id.startswith(BUILT) or state is None:
            continue
        node = manifest["nodes"][unique_id]
        inputs = [relation(manifest, upstream, warehouse) for upstream in node["depends_on"]["nodes"]]
        job, run_id = f"dbt.{node['name']}", str(generate_new_uuid())
        outputs = [relation(manifest, unique_id, warehouse)]
        yield run_event("START", namespace, job, run_id, inputs, outputs, parent)
        yield run_event(state, namespace, job, run_id, inputs, outputs, parent, error=result.get("message")
                        if state == "FAIL" else None)


def relation(manifest: Mapping, unique_id: str, warehouse: str) -> DatasetName:
    """The dataset of a node: a lake path for a Delta source, else `database.schema.alias` in the warehouse."""
    node = manifest["sources"].get(unique_id) or manifest["nodes"][unique_id]
    path = node.get("meta", {}).get("delta_table_path")
    if path:
        return lake_dataset(path)
    name = node.get("alias") or node.get("identifier") or node["name"]
    return DatasetName(warehouse, ".".join(part for part in (node["database"], node["schema"], name) if part).lower())


def emit_dbt_lineage(client, target_dir: Path, namespace: str, warehouse: str,
                     parent: Optional[Mapping[str, str]] = None) -> int:
    """Emits the events of the dbt command whose artifacts are in `target_dir`; returns how many."""
    manifest, results = target_dir / "manifest.json", target_dir / "run_results.json"
    if client is None or not (manifest.is_file() and results.is_file()):
        return 0
    events = list(dbt_run_events(json.loads(manifest.read_text()), json.loads(results.read_text()),
                                 namespace, warehouse, parent))
    for event in events:
        emit(client, event)
    return len(events)
