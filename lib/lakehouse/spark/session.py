"""The session factory: every job, test and benchmark gets its SparkSession from `build_spark`.

`spark_conf` is a pure function of the config, so what a job runs with is testable and is the
same whether the JVM is started by pyspark (tests, console scripts) or by spark-submit (EMR),
where `spark_submit_args` passes the jars on the command line instead.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

from lakehouse.config import Config, ConfigError
from lakehouse.spark import cds
from lakehouse.spark.udfs import register_udfs

log = logging.getLogger(__name__)

DELTA_CONF = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}
# Delta's DynamoDB-coordinated log store for S3, as EMR 7 ships it on every node.
DYNAMODB_LOG_STORE = "io.delta.storage.S3DynamoDBLogStore"
EMR_DYNAMODB_LOG_STORE_JAR = "local:/usr/share/aws/delta/lib/delta-storage-s3-dynamodb.jar"
URI = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)
# OpenLineage's Spark listener, wrapped by the project's (jars/udf) to leave out the Spark actions a
# job tags (lakehouse.lineage.skip): both jars must be among the job's jars.
LINEAGE_LISTENER = "lakehouse.lineage.FilteredLineageListener"
LISTENER_DRAIN_S = 120
OPENLINEAGE_JAR = re.compile(r"(^|/)openlineage-spark_[0-9.]+-[0-9][^/]*\.jar$")
PROJECT_JAR = re.compile(r"(^|/)lakehouse-udf-[0-9]+\.jar$")
DRIVER_JAVA_OPTIONS = "spark.driver.extraJavaOptions"
# For JVMs that live seconds (the tests' drivers, the quick bench): the client compiler alone starts them
# faster. Its code cache is 48 MB by default, which a silver driver running three queries fills
# (measured peaks 45-48 MB in the crash test); once full, the JVM cannot make the method-handle
# adapters new code paths need and the running query fails (`InternalError: ... linkToStatic`).
SHORT_LIVED_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=160m"
# Classes PySpark names by their simple names on every column function (`F.col`...) or list it passes:
# imported by name, each is found at once, instead of after misses in the packages PySpark imports
# before theirs, each miss a scan of the whole class path (F.col: 2.6-3.5 ms -> 1.1-1.6 ms on 2 cores).
PY4J_IMPORTS = ("org.apache.spark.sql.functions", "org.apache.spark.api.python.PythonUtils",
                "org.apache.spark.sql.api.python.PythonSQLUtils")


def build_spark(cfg: Config, job_name: str):
    """Returns the SparkSession for `job_name`, configured for Delta, Kafka, JDBC and S3A, with the
    project's JVM functions registered."""
    from py4j.java_gateway import java_import
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(f"{cfg.spark.app_name}-{job_name}")
    if cfg.spark.master:
        builder = builder.master(cfg.spark.master)
    conf = with_lineage_auth(cfg, spark_conf(cfg))
    for key, value in conf.items():
        builder = builder.config(key, value)
    if "spark.openlineage.transport.location" in conf:
        Path(conf["spark.openlineage.transport.location"]).parent.mkdir(parents=True, exist_ok=True)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(cfg.spark.log_level)
    for name in PY4J_IMPORTS:
        java_import(spark.sparkContext._jvm, name)
    register_udfs(spark)
    return spark


def stop_spark(spark, drain_s: float = LISTENER_DRAIN_S) -> None:
    """Stops the session once its listeners have handled every event posted (waits `drain_s` at most).

    OpenLineage's listener can start a Spark job while it handles an event (the input statistics of
    a Delta MERGE: OpenLineage issue #4976); a SparkContext stopped under it waits for that job for ever.
    """
    try:
        spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty(int(drain_s * 1000))
    except Exception as exc:  # a timeout: stop anyway
        log.warning("listeners still busy after %.0fs (%s); stopping the session", drain_s, exc)
    spark.stop()


def spark_conf(cfg: Config) -> dict[str, str]:
    """All Spark properties derived from the config (secrets resolved only for S3A keys)."""
    conf = dict(DELTA_CONF)
    conf["spark.sql.shuffle.partitions"] = str(cfg.spark.shuffle_partitions)
    conf["spark.ui.enabled"] = str(cfg.spark.ui_enabled).lower()
    if cfg.spark.driver_memory:
        conf["spark.driver.memory"] = cfg.spark.driver_memory
    class_path, jars = _split_jars(cfg)
    if class_path:
        conf["spark.driver.extraClassPath"] = os.pathsep.join(class_path)
    if jars:
        conf["spark.jars"] = ",".join(jars)
    if _uses_s3a(cfg):
        conf.update(s3a_conf(cfg))
    conf.update(log_store_conf(cfg))
    conf.update(lineage_conf(cfg, class_path + jars))
    conf.update(cfg.spark.conf)
    java_options = " ".join([*cds.java_options(cfg, class_path), conf.get(DRIVER_JAVA_OPTIONS, "")]).strip()
    if java_options:
        conf[DRIVER_JAVA_OPTIONS] = java_options
    return conf


def lineage_conf(cfg: Config, jars: list[str]) -> dict[str, str]:
    """OpenLineage's Spark listener (through the project's filter, LINEAGE_LISTENER) and its transport
    (lineage section), when lineage is enabled and both jars are among the job's jars; empty otherwise
    (a job never fails for lineage).

    The parent run (spark.openlineage.parent*) is not set here: Airflow passes it per step. The API
    key of the http transport neither: `with_lineage_auth` resolves it when the session starts.
    """
    if not cfg.lineage.enabled:
        return {}
    missing = [name for name, jar in (("openlineage-spark", OPENLINEAGE_JAR), ("lakehouse-udf", PROJECT_JAR))
               if not any(jar.search(path) for path in jars)]
    if missing:
        log.warning("lineage.enabled but no %s jar among the job's jars: no lineage events", " or ".join(missing))
        return {}
    lineage = cfg.lineage
    conf = {
        "spark.extraListeners": LINEAGE_LISTENER,
        "spark.openlineage.namespace": lineage.namespace,
        "spark.openlineage.transport.type": lineage.transport,
    }
    if lineage.transport == "file":
        conf["spark.openlineage.transport.location"] = str(lineage.file)
    else:
        conf["spark.openlineage.transport.url"] = lineage.url
        conf["spark.openlineage.transport.endpoint"] = lineage.endpoint
    return conf


def with_lineage_auth(cfg: Config, conf: dict[str, str]) -> dict[str, str]:
    """`conf` plus the http transport's API key (lineage.api_key), resolved; when it cannot be, without
    the listener, since a job never fails for lineage. Applied by `build_spark` only, so the key is
    never on a command line."""
    if conf.get("spark.extraListeners") != LINEAGE_LISTENER or not cfg.lineage.api_key:
        return conf
    try:
        api_key = cfg.lineage.api_key.resolve()
    except Exception as exc:  # a missing secret, no Secrets Manager: lineage must never fail a job
        log.warning("lineage: cannot resolve %s (%s); no lineage events", cfg.lineage.api_key, exc)
        return {key: value for key, value in conf.items() if key != "spark.extraListeners"}
    return {**conf, "spark.openlineage.transport.auth.type": "api_key",
            "spark.openlineage.transport.auth.apiKey": api_key}


def log_store_conf(cfg: Config) -> dict[str, str]:
    """Delta's log store for s3:// and s3a:// tables (lake.log_store): empty for Delta's default."""
    if cfg.lake.log_store != "dynamodb":
        return {}
    prefix = f"spark.io.delta.storage.{DYNAMODB_LOG_STORE.rsplit('.', 1)[-1]}.ddb"
    return {
        "spark.delta.logStore.s3.impl": DYNAMODB_LOG_STORE,
        "spark.delta.logStore.s3a.impl": DYNAMODB_LOG_STORE,
        f"{prefix}.tableName": cfg.lake.log_store_table,
        f"{prefix}.region": cfg.s3.region,
    }


def job_jars(cfg: Config) -> list[str]:
    """The jars a job needs beyond Spark itself: the local Maven folder and/or `extra_jars`."""
    jars = list(cfg.spark.extra_jars)
    if cfg.lake.log_store == "dynamodb":
        jars.append(EMR_DYNAMODB_LOG_STORE_JAR)
    if cfg.spark.jars_dir:
        folder = Path(cfg.spark.jars_dir)
        found = sorted(str(p) for p in folder.glob("*.jar"))
        if not found:
            raise ConfigError(
                f"spark.jars_dir: no jars in {folder}; run `make jars` (Maven fetches them from Maven Central)"
            )
        jars = found + jars
    return jars


def spark_submit_args(cfg: Config, java_options: Sequence[str] = ()) -> list[str]:
    """Launch-time options for `spark-submit` (master, jars or the local class path, driver memory, the
    driver's JVM options: the class-data sharing archive of a local driver, the config's
    `spark.driver.extraJavaOptions`, then `java_options`).

    Everything else, secrets included, is applied by `build_spark` inside the job, so a process
    started with these arguments gets the same session as one started by pyspark, and no
    secret appears on a command line.
    """
    args: list[str] = []
    if cfg.spark.master:
        args += ["--master", cfg.spark.master]
    class_path, jars = _split_jars(cfg)
    if class_path:
        args += ["--driver-class-path", os.pathsep.join(class_path)]
    if jars:
        args += ["--jars", ",".join(jars)]
    if cfg.spark.driver_memory:
        args += ["--driver-memory", cfg.spark.driver_memory]
    # The driver's JVM exists before the job builds its session: its options go on the command line.
    configured = cfg.spark.conf.get(DRIVER_JAVA_OPTIONS, "").strip()
    options = [*cds.java_options(cfg, class_path), *([configured] if configured else []), *java_options]
    if options:
        args += ["--driver-java-options", " ".join(options)]
    return args


def driver_class_path(cfg: Config) -> list[str]:
    """The jars a local driver's JVM starts with on its class path (none for other masters)."""
    return _split_jars(cfg)[0]


def s3a_conf(cfg: Config) -> dict[str, str]:
    s3 = cfg.s3
    conf = {
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.path.style.access": str(s3.path_style_access).lower(),
        "spark.hadoop.fs.s3a.endpoint.region": s3.region,
    }
    if s3.endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = s3.endpoint
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(s3.endpoint.startswith("https")).lower()
    if s3.credentials == "keys":
        conf["spark.hadoop.fs.s3a.aws.credentials.provider"] = (
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        )
        conf["spark.hadoop.fs.s3a.access.key"] = s3.access_key.resolve()
        conf["spark.hadoop.fs.s3a.secret.key"] = s3.secret_key.resolve()
    return conf


def _split_jars(cfg: Config) -> tuple[list[str], list[str]]:
    """(class path, spark.jars): with a local master (driver and executors in one JVM) local jar
    files go on the JVM's class path at launch, rather than through spark.jars, which copies each
    of them (the AWS SDK bundle alone is 280 MB) to a temporary folder and loads them in a second
    class loader. Elsewhere, and for URIs, spark.jars ships them to the executors."""
    jars = job_jars(cfg)
    if not (cfg.spark.master or "").startswith("local"):
        return [], jars
    return [j for j in jars if not URI.match(j)], [j for j in jars if URI.match(j)]


def _uses_s3a(cfg: Config) -> bool:
    return bool(cfg.s3.endpoint) or any(
        path.startswith("s3a://") for path in (cfg.lake.root, cfg.lake.checkpoint_root)
    )
