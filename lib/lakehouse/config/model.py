"""The shape of the configuration: one frozen dataclass per section of conf/*.yaml.

Every key in the YAML files must appear here; the loader rejects unknown keys and wrong types.
Sections may define `validate()` returning (key, message) pairs for rules across fields.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Optional

from lakehouse.config.secrets import SecretRef
from lakehouse.config.typed import LocalPath

SECRET_LOOKING_WORDS = ("secret", "password", "token", "credential", "access.key")


@dataclass(frozen=True)
class SparkConfig:
    """How the one SparkSession of a job is built (see lakehouse.spark.session)."""

    app_name: str
    master: Optional[str]
    shuffle_partitions: int
    ui_enabled: bool
    log_level: str
    driver_memory: Optional[str]
    # Local runs: the folder `make jars` fills from Maven Central. None on EMR, where the cluster
    # provides Delta and Hadoop's S3 support and `extra_jars` lists only what it lacks.
    jars_dir: Optional[LocalPath]
    extra_jars: list[str]
    # Local drivers: the folder of class-data sharing archives (lakehouse.spark.cds; `make setup`
    # records one). None: no archive (every cluster).
    cds_dir: Optional[LocalPath]
    conf: dict[str, str]

    def validate(self):
        if self.shuffle_partitions < 1:
            yield "shuffle_partitions", "must be at least 1"
        for key in self.conf:
            if any(word in key.lower() for word in SECRET_LOOKING_WORDS):
                yield f"conf.{key}", "looks like a secret; use the s3/postgres secret references instead"


@dataclass(frozen=True)
class LakeConfig:
    """Where Delta tables and streaming checkpoints live: a local folder, s3a:// or s3:// (EMRFS)."""

    root: LocalPath
    checkpoint_root: LocalPath
    # How Delta commits on S3: `default` is safe with one writing driver per table only;
    # `dynamodb` (Delta's S3DynamoDBLogStore) makes concurrent writers from several drivers safe.
    log_store: Literal["default", "dynamodb"]
    log_store_table: Optional[str]  # the DynamoDB table of the dynamodb log store

    def validate(self):
        if self.log_store == "dynamodb" and not self.log_store_table:
            yield "log_store_table", "required when log_store is dynamodb (the DynamoDB table Terraform creates)"

    def table_path(self, layer: str, name: str) -> str:
        """Path of the Delta table `<layer>.<name>`, e.g. bronze.user_events."""
        return f"{self.root.rstrip('/')}/{layer}/{name}"

    def checkpoint_path(self, job: str, name: str) -> str:
        return f"{self.checkpoint_root.rstrip('/')}/{job}/{name}"


@dataclass(frozen=True)
class S3Config:
    """S3A settings, used when a path is s3a:// (locally against moto, in dev against real S3)."""

    endpoint: Optional[str]
    region: str
    path_style_access: bool
    credentials: Literal["default", "keys"]
    access_key: Optional[SecretRef]
    secret_key: Optional[SecretRef]

    def validate(self):
        if self.credentials == "keys":
            for name in ("access_key", "secret_key"):
                if getattr(self, name) is None:
                    yield name, "missing secret reference (required when s3.credentials is 'keys')"


@dataclass(frozen=True)
class TopicConfig:
    partitions: int
    replication_factor: int
    retention_ms: Optional[int] = None

    def validate(self):
        if self.partitions < 1:
            yield "partitions", "must be at least 1"
        if self.replication_factor < 1:
            yield "replication_factor", "must be at least 1"


LOOPBACK_HOSTS = re.compile(r"(localhost|127(\.[0-9]{1,3}){3}|\[::1\])")


@dataclass(frozen=True)
class KafkaConfig:
    bootstrap_servers: str
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
    # How clients prove who they are: iam (MSK IAM over SASL_SSL, port 9098; lakehouse.kafka.auth) or
    # none, which only a broker on this machine (the local stack) may accept.
    authentication: Literal["none", "iam"]
    # Extra client properties, passed to Spark's source as kafka.<name> and to Python clients as is.
    options: dict[str, str]
    topics: dict[str, TopicConfig]

    @property
    def brokers_are_local(self) -> bool:
        """True when every bootstrap server is on this machine (the local broker)."""
        hosts = [server.strip().rpartition(":")[0] for server in self.bootstrap_servers.split(",")]
        return all(LOOPBACK_HOSTS.fullmatch(host) for host in hosts)

    def validate(self):
        if self.authentication == "iam" and self.security_protocol != "SASL_SSL":
            yield "security_protocol", f"must be SASL_SSL with authentication iam, got {self.security_protocol}"
        if not self.brokers_are_local and self.authentication != "iam":
            yield "authentication", (
                f"must be iam (SASL_SSL) for brokers {self.bootstrap_servers}: unauthenticated and PLAINTEXT "
                "access is allowed only on the local broker (localhost, 127.0.0.1)")


@dataclass(frozen=True)
class PostgresConfig:
    host: str
    port: int
    database: str
    user: str
    password: SecretRef
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://{self.host}:{self.port}/{self.database}?sslmode={self.sslmode}"

    def jdbc_options(self) -> dict[str, str]:
        """Spark JDBC options with the password resolved; never log them."""
        # The driver class must be named: jars added by spark.jars are invisible to DriverManager.
        return {"url": self.jdbc_url, "driver": "org.postgresql.Driver", "user": self.user,
                "password": self.password.resolve()}


@dataclass(frozen=True)
class ServicesConfig:
    """Local development services (lakehouse.services); ignored outside the local environment.

    The broker listens where kafka.bootstrap_servers points, Postgres on postgres.port and the
    S3 endpoint on s3.endpoint's port, so clients and servers cannot disagree.
    """

    state_dir: LocalPath
    kafka_jars_dir: LocalPath
    kafka_controller_port: int
    kafka_heap: str
    startup_timeout_s: float = 90.0


GRAVITON_FAMILY = re.compile(r"[a-z]+[0-9]+g[a-z]*")


@dataclass(frozen=True)
class EmrClusterConfig:
    """Every cluster the DAGs create when emr.cluster_id is not set (RunJobFlow fields)."""

    name: str
    release_label: str              # emr-7.8 or later: Delta 3.3 (Spark 3.5, Python 3.9)
    service_role: Optional[str]     # per environment; required with emr.runner emr
    instance_profile: Optional[str]
    # EMR security configuration (Terraform's): KMS at rest, TLS in transit, IMDSv2; required with runner emr
    security_configuration: Optional[str]
    subnet_id: Optional[str]
    master_security_group: Optional[str]
    worker_security_group: Optional[str]
    service_security_group: Optional[str]
    master_instance_type: str
    core_instance_type: str
    core_instance_count: int
    idle_timeout_minutes: int       # EMR terminates an idle cluster even if Airflow never does
    step_concurrency: int
    tags: dict[str, str]

    @property
    def architecture(self) -> str:
        """The CPU architecture of the nodes, from the instance family: Graviton (m6g, r7gd...) is aarch64."""
        return _architecture(self.core_instance_type)

    def validate(self):
        if not self.release_label.startswith("emr-7."):
            yield "release_label", "must be an EMR 7.x release (Spark 3.5, Delta 3.3), e.g. emr-7.13.0"
        if self.core_instance_count < 1:
            yield "core_instance_count", "must be at least 1"
        if self.step_concurrency < 1:
            yield "step_concurrency", "must be at least 1"
        if _architecture(self.master_instance_type) != self.architecture:
            yield "master_instance_type", (
                f"{self.master_instance_type} and core_instance_type {self.core_instance_type} must share one "
                "CPU architecture (the release's Python dependencies are built for one)")


def _architecture(instance_type: str) -> str:
    return "aarch64" if GRAVITON_FAMILY.fullmatch(instance_type.partition(".")[0]) else "x86_64"


@dataclass(frozen=True)
class IngestClusterConfig:
    """The long-running cluster of the frequent DAGs (streaming_pipeline, postgres_extract_hourly)."""

    idle_timeout_minutes: int       # it terminates itself this long after its last step
    step_concurrency: int

    def validate(self):
        if self.idle_timeout_minutes < 1:
            yield "idle_timeout_minutes", "must be at least 1"
        if self.step_concurrency < 1:
            yield "step_concurrency", "must be at least 1"


@dataclass(frozen=True)
class EmrConfig:
    """How Airflow runs the jobs: as EMR steps, or as local spark-submit processes (lakehouse.orchestration)."""

    runner: Literal["emr", "local"]
    aws_conn_id: Optional[str]
    cluster_id: Optional[str]       # one running cluster for every DAG; null: ingest + transient clusters
    artifacts_uri: str              # releases live under <artifacts_uri>/<package version>/
    log_uri: Optional[str]
    deferrable: bool
    poke_interval_s: int
    step_timeout_minutes: int
    python_version: str             # the cluster's python3 (EMR 7: 3.9)
    glibc_version: str              # the cluster's C library (Amazon Linux 2023: 2.34)
    ingest_cluster: IngestClusterConfig
    cluster: EmrClusterConfig

    def validate(self):
        if self.runner == "emr":
            if not self.artifacts_uri.startswith("s3://"):
                yield "artifacts_uri", "must be an s3:// URI when runner is emr"
            for key in ("service_role", "instance_profile", "security_configuration"):
                if not getattr(self.cluster, key):
                    yield f"cluster.{key}", "required when runner is emr (the name Terraform gives it)"
        if self.poke_interval_s < 1:
            yield "poke_interval_s", "must be at least 1"
        for key in ("python_version", "glibc_version"):
            if not re.fullmatch(r"[0-9]+\.[0-9]+", getattr(self, key)):
                yield key, f"expected MAJOR.MINOR, e.g. 3.9, got {getattr(self, key)!r}"


@dataclass(frozen=True)
class Thresholds:
    """Shares of passing rows (the seed's `mostly`): below `warn_below` a check warns, below
    `fail_below` it fails."""

    warn_below: float
    fail_below: float

    def validate(self):
        if not 0 <= self.fail_below <= self.warn_below <= 1:
            yield "warn_below", f"expected 0 <= fail_below <= warn_below <= 1, got {self.fail_below}, {self.warn_below}"

    def judge(self, rows_checked: int, rows_failed: int) -> str:
        share = 1.0 if rows_checked == 0 else 1 - rows_failed / rows_checked
        return "fail" if share < self.fail_below else "warn" if share < self.warn_below else "pass"


@dataclass(frozen=True)
class QualityConfig:
    """Data-quality results (lakehouse.ops.quality) in the Delta table ops.quality_results."""

    record: bool                    # silver batches and dbt builds append their checks
    accepted_share: Thresholds      # silver: share of a batch's records that pass the contract


@dataclass(frozen=True)
class MetricsConfig:
    """Job metrics (lakehouse.ops.metrics) to CloudWatch; locally to moto's."""

    enabled: bool
    namespace: str                  # one per environment, e.g. Lakehouse/prod
    endpoint: Optional[str]         # null: the region's CloudWatch; locally the moto server
    region: str
    flush_interval_s: float         # how often the sender thread calls PutMetricData
    max_queue: int                  # data waiting to be sent; more are dropped (and counted)

    def validate(self):
        if self.flush_interval_s <= 0:
            yield "flush_interval_s", "must be positive"
        if self.max_queue < 1:
            yield "max_queue", "must be at least 1"
        if not re.fullmatch(r"[A-Za-z0-9_./#:-]+", self.namespace) or self.namespace.startswith("AWS/"):
            yield "namespace", f"expected a namespace like Lakehouse/prod (not AWS/...), got {self.namespace!r}"


@dataclass(frozen=True)
class LineageConfig:
    """OpenLineage events of the Spark jobs, dbt and the Airflow steps (lakehouse.lineage)."""

    enabled: bool
    namespace: str                  # the jobs' namespace, one per environment, e.g. lakehouse-prod
    transport: Literal["file", "http"]
    file: Optional[LocalPath]       # transport file: one JSON event per line, appended
    url: Optional[str]              # transport http: Marquez or DataZone's OpenLineage endpoint
    endpoint: str                   # transport http: the path under url
    api_key: Optional[SecretRef]    # transport http: a bearer token, by reference; null: no auth
    batch_report_interval_s: float  # streaming: a query's micro-batch writes reported at most this often; 0: all

    def validate(self):
        if self.batch_report_interval_s < 0:
            yield "batch_report_interval_s", "expected seconds >= 0 (0: report every micro-batch)"
        if self.transport == "file" and not self.file:
            yield "file", "required when transport is file (the events file)"
        if self.transport == "http" and not self.url:
            yield "url", "required when transport is http (Marquez or DataZone's OpenLineage URL)"
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", self.namespace):
            yield "namespace", f"expected a name like lakehouse-prod, got {self.namespace!r}"


@dataclass(frozen=True)
class AirflowConfig:
    """Settings every DAG shares: ownership, alert channels (Airflow connection ids) and the dbt invocation."""

    owner: str
    alert_emails: list[str]
    smtp_conn_id: Optional[str]
    slack_conn_id: Optional[str]
    pagerduty_conn_id: Optional[str]
    # The daily build must finish this long after its logical date; null: no deadline (local:
    # nobody to alert, and Airflow 3.3's dag.test() fails on a successful run of a DAG with one).
    daily_deadline_hours: Optional[float]
    dbt_project_dir: LocalPath
    dbt_profiles_dir: LocalPath
    dbt_target: str


@dataclass(frozen=True)
class MaintainedTableConfig:
    # The job that writes the table: maintenance runs in that writer's Airflow pool, never beside it.
    writer: Literal["streaming", "extract", "landed_files"]
    zorder_by: list[str] = field(default_factory=list)
    optimize: bool = True
    vacuum: bool = True


@dataclass(frozen=True)
class MaintenanceConfig:
    """OPTIMIZE / VACUUM of the lake's tables (lakehouse.maintenance); keys are `<layer>.<name>`."""

    # null: each table's own delta.deletedFileRetentionDuration (Delta's default is 7 days).
    vacuum_retention_hours: Optional[int]
    tables: dict[str, MaintainedTableConfig]
    # Tables maintained at once, each in a thread of the one driver: a small table's OPTIMIZE and VACUUM
    # wait on the object store far more than they compute.
    parallelism: int = 1

    def validate(self):
        if self.parallelism < 1:
            yield "parallelism", "must be at least 1"
        for key in self.tables:
            if key.count(".") != 1:
                yield f"tables.{key}", "must be <layer>.<name>, e.g. silver.user_events"


@dataclass(frozen=True)
class FraudConfig:
    """Fraud rules applied to every transaction version written to silver (lakehouse.transforms.fraud)."""

    # Flag when amount > threshold, in the transaction's own currency (one entry per accepted currency).
    amount_thresholds: dict[str, float]
    # Flag when the user has more than this many distinct transactions in the window ending at this one.
    velocity_max_transactions: int
    velocity_window_minutes: int

    def validate(self):
        for currency, threshold in self.amount_thresholds.items():
            if threshold <= 0:
                yield f"amount_thresholds.{currency}", "must be positive"
        if self.velocity_max_transactions < 1:
            yield "velocity_max_transactions", "must be at least 1"
        if self.velocity_window_minutes < 1:
            yield "velocity_window_minutes", "must be at least 1"


@dataclass(frozen=True)
class ProducerConfig:
    """librdkafka producer settings of the synthetic traffic producer (acks=all and idempotence are fixed)."""

    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"]
    linger_ms: int
    delivery_timeout_ms: int
    max_message_bytes: int          # must not exceed the broker's message.max.bytes


@dataclass(frozen=True)
class StreamingConfig:
    """Kafka -> bronze -> silver streaming jobs (lakehouse.streaming); flags override the run settings."""

    topics: dict[str, str]          # contract (each of lakehouse.schemas.CONTRACTS) -> Kafka topic
    trigger: Literal["available-now", "processing-time"]
    processing_time: str            # micro-batch interval of the processing-time trigger, e.g. "30 seconds"
    max_offsets_per_trigger: int    # Kafka records per bronze micro-batch, across partitions
    min_partitions: Optional[int]   # Spark tasks per bronze micro-batch; null: one per Kafka partition
    source_options: dict[str, str]  # Java consumer settings of Spark's Kafka source (kafka.options: librdkafka)
    starting_offsets: Literal["earliest", "latest"]   # where a new bronze checkpoint starts
    silver_max_files_per_trigger: int   # bronze files per silver micro-batch
    max_record_bytes: int           # larger Kafka values are quarantined unparsed
    checkpoint_lock: Literal["file", "none"]   # file: exclusive flock next to a local checkpoint
    fx_rates_seed: LocalPath        # CSV that seeds the reference.fx_rates Delta table when it is absent
    fraud: FraudConfig
    producer: ProducerConfig

    # Keys that no longer exist, and why: a config still setting one fails with the reason.
    REMOVED_KEYS: ClassVar[dict[str, str]] = {
        "dedup_window": (
            "its streaming dedup state dropped rows that reached silver after its watermark (a new silver "
            "checkpoint reads compacted bronze files in modification order, not ingest order), rows found "
            "in neither silver nor quarantine; the in-batch dedup and the keyed MERGE alone give exactly once"
        ),
    }

    def validate(self):
        from lakehouse.schemas import CONTRACTS  # here: the contracts import Spark, lakehouse.config does not

        contracts = tuple(CONTRACTS)
        if sorted(self.topics) != sorted(contracts):
            yield "topics", f"must map exactly {', '.join(contracts)} to Kafka topic names"
        if not re.fullmatch(r"[1-9][0-9]* (second|minute|hour|day)s?", self.processing_time):
            yield "processing_time", f"expected an interval like '30 seconds', got {self.processing_time!r}"
        for key in ("max_offsets_per_trigger", "silver_max_files_per_trigger", "max_record_bytes"):
            if getattr(self, key) < 1:
                yield key, "must be at least 1"
        if self.min_partitions is not None and self.min_partitions < 1:
            yield "min_partitions", "must be at least 1 (or null)"


LAKE_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class ExtractTableConfig:
    """One Postgres table extracted into Delta (lakehouse.extract; README "Batch extracts").

    Source names are used only after information_schema confirms them, and only quoted.
    """

    schema: str
    table: str
    primary_key: list[str]          # the table's primary key (or a unique index): merge key, tie-breaker
    cursor_column: str              # a NOT NULL timestamp that every insert and update moves forward
    target_layer: str               # the Delta table is <lake.root>/<target_layer>/<target_name>
    target_name: str
    fetch_size: int = 10000         # rows per JDBC round trip; the read streams only when it is set
    partition_column: Optional[str] = None    # integer column splitting the read into num_partitions
    partition_lower: Optional[int] = None     # stride bounds; null: the column's range in each window
    partition_upper: Optional[int] = None
    num_partitions: int = 1
    max_rows_per_run: Optional[int] = None    # null: read everything up to the safe bound
    safety_delay_s: Optional[float] = None    # null: extract.safety_delay_s
    source_timezone: Optional[str] = None     # a `timestamp` (no tz) cursor: its writers' TimeZone (fixed offset)
    person_column: Optional[str] = None       # the column naming the person a row belongs to (lakehouse-erase)

    def validate(self):
        if not self.primary_key:
            yield "primary_key", "must name at least one column"
        for key in ("target_layer", "target_name"):
            if not LAKE_NAME.fullmatch(getattr(self, key)):
                yield key, "must be lowercase letters, digits and underscores (it is a path segment)"
        for key in ("fetch_size", "num_partitions", "max_rows_per_run"):
            value = getattr(self, key)
            if value is not None and value < 1:
                yield key, "must be at least 1"
        if self.num_partitions > 1 and self.partition_column is None:
            yield "partition_column", "required when num_partitions > 1"
        if (self.partition_lower is None) != (self.partition_upper is None):
            yield "partition_lower", "set both partition_lower and partition_upper, or neither"
        elif self.partition_lower is not None and self.partition_lower > self.partition_upper:
            yield "partition_lower", "must not exceed partition_upper"
        if self.safety_delay_s is not None and self.safety_delay_s < 0:
            yield "safety_delay_s", "must not be negative"


@dataclass(frozen=True)
class ExtractConfig:
    """Incremental Postgres extracts (lakehouse.extract): the late-commit guard and the tables."""

    # in_flight: bound by the oldest open transaction (primary; needs pg_read_all_stats or the
    # writers' role). delay: now() - safety_delay only (replicas; needs a transaction timeout).
    late_commit_guard: Literal["in_flight", "delay"]
    safety_delay_s: float
    tables: dict[str, ExtractTableConfig]

    def validate(self):
        if self.safety_delay_s < 0:
            yield "safety_delay_s", "must not be negative"


@dataclass(frozen=True)
class LandedFilesConfig:
    """Files landed by external loaders (Airbyte) ingested into bronze and silver (lakehouse.landed)."""

    max_files_per_trigger: int
    processing_time: str            # micro-batch interval of the processing-time trigger

    def validate(self):
        if self.max_files_per_trigger < 1:
            yield "max_files_per_trigger", "must be at least 1"
        if not re.fullmatch(r"[1-9][0-9]* (second|minute|hour|day)s?", self.processing_time):
            yield "processing_time", f"expected an interval like '1 minute', got {self.processing_time!r}"


@dataclass(frozen=True)
class Config:
    """The effective configuration of one environment."""

    spark: SparkConfig
    lake: LakeConfig
    s3: S3Config
    kafka: KafkaConfig
    postgres: PostgresConfig
    services: ServicesConfig
    emr: EmrConfig
    airflow: AirflowConfig
    metrics: MetricsConfig
    quality: QualityConfig
    lineage: LineageConfig
    maintenance: MaintenanceConfig
    streaming: StreamingConfig
    extract: ExtractConfig
    landed_files: LandedFilesConfig
    env: str = field(default="local", metadata={"set_by": "loader"})
    project_root: str = field(default="", metadata={"set_by": "loader"})
