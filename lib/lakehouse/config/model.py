"""The shape of the configuration: one frozen dataclass per section of conf/*.yaml.

Every key in the YAML files must appear here; the loader rejects unknown keys and wrong types.
Sections may define `validate()` returning (key, message) pairs for rules across fields.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

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


@dataclass(frozen=True)
class KafkaConfig:
    bootstrap_servers: str
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
    # Extra client properties, passed to Spark's source as kafka.<name> and to Python clients as is.
    options: dict[str, str]
    topics: dict[str, TopicConfig]


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


@dataclass(frozen=True)
class Config:
    """The effective configuration of one environment."""

    spark: SparkConfig
    lake: LakeConfig
    s3: S3Config
    kafka: KafkaConfig
    postgres: PostgresConfig
    services: ServicesConfig
    env: str = field(default="local", metadata={"set_by": "loader"})
    project_root: str = field(default="", metadata={"set_by": "loader"})
