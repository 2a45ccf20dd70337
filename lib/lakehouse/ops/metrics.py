"""Job metrics to CloudWatch, batched off the job's thread: an outage never fails or slows a job.

`emit` only puts a datum on a bounded queue; a daemon thread sends up to 1,000 data per
PutMetricData call (CloudWatch's limit) every `flush_interval_s`. When the queue is full, or
CloudWatch refuses or cannot be reached, the data are dropped and counted, with a warning at
most once a minute. Locally (and in tests) the endpoint is moto's, signed with the S3 keys.

Names and dimensions (namespace `metrics.namespace`, e.g. Lakehouse/prod):
    streaming (job, table): RowsIn, RowsWritten, RowsQuarantined, RowsQuarantinedByReason (+reason),
        BatchDuration, ConsumerLag (+topic), Freshness (seconds since the newest Kafka timestamp
        committed), QueryRestarts (a query started again after a commit conflict).
    extract (job, table, mode): RowsRead, RowsMerged, PositionAge, HeldBack, and for a
        reconciliation NotYetExtracted, HardDeletes.
"""
from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

from lakehouse.config import Config

log = logging.getLogger(__name__)

MAX_DATA_PER_CALL = 1000  # PutMetricData's limit
WARN_EVERY_S = 60.0


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str
    dimensions: tuple[tuple[str, str], ...]
    at: dt.datetime

    def datum(self) -> dict:
        return {
            "MetricName": self.name,
            "Value": float(self.value),
            "Unit": self.unit,
            "Timestamp": self.at,
            "Dimensions": [{"Name": name, "Value": value} for name, value in self.dimensions],
        }


class MetricsPublisher:
    """Sends metrics to one namespace in the background; `close` flushes what is queued."""

    def __init__(self, client_factory: Callable[[], object], namespace: str, max_queue: int = 10000,
                 flush_interval_s: float = 10.0):
        self.namespace = namespace
        self.flush_interval_s = flush_interval_s
        self.sent = 0
        self.dropped = 0
        self._client_factory = client_factory
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._closing = threading.Event()
        self._last_warning = 0.0
        self._thread = threading.Thread(target=self._run, name="metrics-publisher", daemon=True)
        self._thread.start()

    def emit(self, name: str, value: float, unit: str = "Count", **dimensions: str) -> None:
        """Queues one datum; never blocks, never raises."""
        metric = Metric(name, value, unit, tuple(sorted((k, str(v)) for k, v in dimensions.items())),
                        dt.datetime.now(dt.timezone.utc))
        try:
            self._queue.put_nowait(metric)
        except queue.Full:
            self._drop(1, "the metrics queue is full")

    def close(self, timeout_s: float = 10.0) -> None:
        """Sends what is queued (waiting at most `timeout_s`) and stops the thread."""
        self._closing.set()
        self._thread.join(timeout_s)
        left = self._queue.qsize()
        if left:
            self._drop(left, f"not sent within {timeout_s:.0f}s of closing", force=True)
        if self.dropped:
            log.warning("metrics: %d sent to %s, %d dropped", self.sent, self.namespace, self.dropped)

    def _run(self) -> None:
        client = None
        while True:
            batch = self._take()
            sent = 0
            try:
                while sent < len(batch):
                    client = client or self._client_factory()
                    chunk = batch[sent:sent + MAX_DATA_PER_CALL]
                    client.put_metric_data(Namespace=self.namespace, MetricData=[m.datum() for m in chunk])
                    sent += len(chunk)
            except Exception as error:  # an outage or a refusal: drop, count, go on
                self._drop(len(batch) - sent, f"CloudWatch did not take them ({error})")
            self.sent += sent
            if self._closing.is_set() and self._queue.empty():
                return

    def _take(self) -> list[Metric]:
        """Waits for the flush interval (or `close`) and takes what is queued."""
        self._closing.wait(self.flush_interval_s)
        taken: list[Metric] = []
        while len(taken) < 10 * MAX_DATA_PER_CALL:
            try:
                taken.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return taken

    def _drop(self, count: int, why: str, force: bool = False) -> None:
        self.dropped += count
        now = time.monotonic()
        if force or now - self._last_warning >= WARN_EVERY_S:
            self._last_warning = now
            log.warning("metrics: dropped %d datum(s) for %s, %d so far: %s", count, self.namespace,
                        self.dropped, why)


class NoMetrics:
    """What `publisher` returns when metrics are off: accepts everything, sends nothing."""

    sent = dropped = 0

    def emit(self, name: str, value: float, unit: str = "Count", **dimensions: str) -> None:
        pass

    def close(self, timeout_s: float = 10.0) -> None:
        pass


def publisher(cfg: Config):
    """The publisher `cfg.metrics` asks for (NoMetrics when disabled)."""
    if not cfg.metrics.enabled:
        return NoMetrics()
    return MetricsPublisher(lambda: cloudwatch_client(cfg), cfg.metrics.namespace, cfg.metrics.max_queue,
                            cfg.metrics.flush_interval_s)


def cloudwatch_client(cfg: Config):
    """A CloudWatch client: the region's, or `metrics.endpoint` (moto) signed with the S3 keys.

    Short timeouts and one retry: the sender must not sit on a dead endpoint while data pile up."""
    import boto3
    from botocore.config import Config as BotoConfig

    keys = {}
    if cfg.metrics.endpoint and cfg.s3.credentials == "keys":
        keys = {"aws_access_key_id": cfg.s3.access_key.resolve(),
                "aws_secret_access_key": cfg.s3.secret_key.resolve()}
    timeouts = BotoConfig(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client("cloudwatch", endpoint_url=cfg.metrics.endpoint, region_name=cfg.metrics.region,
                        config=timeouts, **keys)


def seconds_since(moment: Optional[dt.datetime]) -> Optional[float]:
    """Seconds from `moment` to now; None for None. A naive `moment` is local time, as PySpark
    returns timestamps."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return max((dt.datetime.now(dt.timezone.utc) - moment).total_seconds(), 0.0)
