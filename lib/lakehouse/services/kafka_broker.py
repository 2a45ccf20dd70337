"""A single-node Apache Kafka broker in KRaft mode, run from the Maven Central jars.

`make jars` copies kafka_2.13 and its dependencies into services.kafka_jars_dir; this module
writes server.properties, formats the log folder once, and runs `kafka.Kafka` with `java -cp`.
Topic auto-creation is off: topics are created explicitly (lakehouse.kafka.topics).
"""
from __future__ import annotations

import base64
import shutil
import uuid
from pathlib import Path

from lakehouse.config import Config
from lakehouse.services.process import ServiceError, port_open, read_pid, spawn, terminate, wait_until

LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log_dir}/broker.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
"""


class KafkaBroker:
    name = "kafka"

    def __init__(self, cfg: Config):
        self.cfg = cfg
        host, _, port = cfg.kafka.bootstrap_servers.split(",")[0].rpartition(":")
        self.host, self.port = host or "127.0.0.1", int(port)
        self.home = Path(cfg.services.state_dir) / "kafka"
        self.pid_file = self.home / "broker.pid"
        self.log_file = self.home / "console.log"

    def describe(self) -> str:
        return f"Kafka broker (KRaft) on {self.host}:{self.port}"

    def running(self) -> bool:
        return read_pid(self.pid_file) is not None and port_open(self.host, self.port)

    def start(self) -> None:
        java = _require_java()
        classpath = self._classpath()
        if port_open(self.host, self.port):
            raise ServiceError(f"port {self.port} is taken by another program; set kafka.bootstrap_servers")
        properties = self._write_properties()
        if not (self.home / "data" / "meta.properties").exists():
            format_storage = ["kafka.tools.StorageTool", "format", "-t", new_cluster_id(), "-c", str(properties)]
            _run_java(java, classpath, format_storage)
        command = [
            java, f"-Xmx{self.cfg.services.kafka_heap}", f"-Xms{self.cfg.services.kafka_heap}",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "-cp", classpath, "kafka.Kafka", str(properties),
        ]
        pid = spawn(command, self.log_file, self.pid_file)
        wait_until(self._ready, self.cfg.services.startup_timeout_s, self.describe(), pid, self.log_file)

    def stop(self) -> bool:
        return terminate(self.pid_file)

    def _ready(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        from confluent_kafka.admin import AdminClient

        try:
            AdminClient({"bootstrap.servers": f"{self.host}:{self.port}"}).list_topics(timeout=2)
        except Exception:  # KafkaException and friends until the broker answers
            return False
        return True

    def _classpath(self) -> str:
        jars = Path(self.cfg.services.kafka_jars_dir)
        if not list(jars.glob("kafka_2.13-*.jar")):
            raise ServiceError(f"Kafka broker jars not found in {jars}; run `make jars` (needs Maven)")
        return f"{jars}/*"

    def _write_properties(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        controller = f"{self.host}:{self.cfg.services.kafka_controller_port}"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{controller}",
            "listeners": f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.home / "data"),
            "auto.create.topics.enable": "false",
            "delete.topic.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "5",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "message.max.bytes": str(2 * 1024 * 1024),
            "log.retention.check.interval.ms": "5000",
            "log.segment.delete.delay.ms": "1000",
        }
        path = self.home / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        (self.home / "log4j2.properties").write_text(LOG4J2.format(log_dir=self.home))
        return path


def new_cluster_id() -> str:
    """A random KRaft cluster id, as Kafka's `Uuid.randomUuid()` makes one.

    Like Kafka, draw again when the url-safe base64 starts with "-": the storage tool would read
    such an id as an option and fail (one start in 64).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _require_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise ServiceError("java not found: the local Kafka broker and Spark need Java 17 (make system-deps)")
    return java


def _run_java(java: str, classpath: str, args: list) -> None:
    import subprocess

    result = subprocess.run([java, "-cp", classpath, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise ServiceError(f"{' '.join(args[:2])} failed:\n{result.stdout}\n{result.stderr}")
