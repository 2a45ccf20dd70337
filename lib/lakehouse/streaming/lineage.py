"""One OpenLineage run per streaming query, from the query's start to the end of its job run.

OpenLineage's Spark listener does not link these queries' inputs to their outputs: bronze's Delta
streaming sink is not reported (only the Kafka topic, read by the batch's observe()), and silver's
MERGE reads a localCheckpoint()ed batch, so its only input is the target table itself. The plan of
each query is known here, so this names both ends, as the listener names datasets.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from lakehouse.lineage.client import PARENT_CONF, emit, lineage_client, run_event
from lakehouse.lineage.datasets import DatasetName


class QueryLineage:
    """START events as queries start, COMPLETE (or FAIL) for each when the run ends."""

    def __init__(self, spark, cfg):
        self.client = lineage_client(cfg)
        self.namespace = cfg.lineage.namespace
        self.parent = _parent_run(spark) if self.client else {}
        self.started: dict[str, tuple] = {}

    def watch(self, query_name: str, job: str, inputs: Sequence[DatasetName], outputs: Sequence[DatasetName]) -> None:
        """Emits the START of `job` (e.g. kafka_to_bronze.bronze.user_events) for the query `query_name`."""
        if self.client is None:
            return
        from openlineage.client.uuid import generate_new_uuid

        run = (job, str(generate_new_uuid()), list(inputs), list(outputs))
        self.started[query_name] = run
        emit(self.client, run_event("START", self.namespace, run[0], run[1], run[2], run[3], self.parent))

    def finish(self, queries: Sequence) -> None:
        """Emits COMPLETE, or FAIL with the error, for every watched query; once."""
        for query in queries:
            run = self.started.pop(query.name, None)
            if run is None:
                continue
            error = query.exception()
            state = "FAIL" if error is not None else "COMPLETE"
            emit(self.client, run_event(state, self.namespace, *run, parent=self.parent,
                                        error=str(error) if error is not None else None))


def _parent_run(spark) -> dict[str, Optional[str]]:
    """The parent run Airflow passed as Spark properties, if any."""
    conf = spark.sparkContext.getConf()
    return {key: conf.get(key, None) for key in PARENT_CONF}
