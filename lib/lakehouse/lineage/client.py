"""The OpenLineage client of the Python side (streaming runs, dbt), built from the lineage section.

Emitting never fails a job: a transport error is logged and the event dropped.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Optional

from lakehouse.config import Config
from lakehouse.lineage.datasets import DatasetName

log = logging.getLogger(__name__)

PRODUCER = "https://github.com/company/lakehouse-jobs"
# The parent run Airflow passes to a step (lakehouse.orchestration.lineage), as Spark properties.
PARENT_CONF = ("spark.openlineage.parentJobNamespace", "spark.openlineage.parentJobName",
               "spark.openlineage.parentRunId")


def lineage_client(cfg: Config):
    """An OpenLineageClient on the configured transport, or None when lineage is off or its transport
    cannot be set up (e.g. the API key's secret is missing: logged, never raised)."""
    if not cfg.lineage.enabled:
        return None
    from openlineage.client import OpenLineageClient

    try:
        return OpenLineageClient(transport=_transport(cfg))
    except Exception:  # lineage must never fail a job
        log.warning("lineage: cannot set up the %s transport; no lineage events", cfg.lineage.transport,
                    exc_info=True)
        return None


def _transport(cfg: Config):
    lineage = cfg.lineage
    if lineage.transport == "file":
        from pathlib import Path

        from openlineage.client.transport.file import FileConfig, FileTransport

        Path(lineage.file).parent.mkdir(parents=True, exist_ok=True)
        return FileTransport(FileConfig(log_file_path=str(lineage.file), append=True))
    from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport, TokenProvider

    auth = ApiKeyTokenProvider({"apiKey": lineage.api_key.resolve()}) if lineage.api_key else TokenProvider({})
    return HttpTransport(HttpConfig(url=lineage.url, endpoint=lineage.endpoint, auth=auth))


def run_event(state: str, namespace: str, job: str, run_id: str, inputs: Iterable[DatasetName] = (),
              outputs: Iterable[DatasetName] = (), parent: Optional[Mapping[str, str]] = None,
              error: Optional[str] = None):
    """One RunEvent (state START, COMPLETE or FAIL); `parent` maps PARENT_CONF keys to values."""
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import error_message_run, parent_run

    facets = {}
    if parent and all(parent.get(key) for key in PARENT_CONF):
        job_namespace, job_name, parent_id = (parent[key] for key in PARENT_CONF)
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent_id), job=parent_run.Job(namespace=job_namespace, name=job_name))
    if error:
        facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(message=error, programmingLanguage="python")
    return RunEvent(
        eventType=RunState[state], eventTime=datetime.now(timezone.utc).isoformat(), producer=PRODUCER,
        run=Run(runId=run_id, facets=facets), job=Job(namespace=namespace, name=job),
        inputs=[InputDataset(namespace=d.namespace, name=d.name) for d in inputs],
        outputs=[OutputDataset(namespace=d.namespace, name=d.name) for d in outputs],
    )


def emit(client, event) -> None:
    """Sends `event`; a transport failure is logged, never raised."""
    if client is None:
        return
    try:
        client.emit(event)
    except Exception:  # lineage must never fail a job
        log.warning("lineage: could not emit %s of %s", event.eventType, event.job.name, exc_info=True)
