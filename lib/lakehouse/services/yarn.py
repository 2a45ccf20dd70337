"""A one-node YARN cluster (Hadoop's MiniYARNCluster): the stand-in for an EMR cluster in tests.

`make jars` copies the mini cluster (hadoop-client-minicluster, at the Hadoop version pyspark
bundles), Spark's YARN support and the launcher of jars/yarn into .local/jars/yarn. The cluster
runs as `java -cp ... lakehouse.yarn.MiniYarn <conf dir> <memory> <vcores>` with its working
folders under `home`. It reads `<conf dir>/core-site.xml` (the S3 file system its NodeManager
localizes the steps' files with) and, once up, writes `<conf dir>/yarn-site.xml`: that folder is
then HADOOP_CONF_DIR for spark-submit. Application logs stay under `home` after the containers end.
"""
from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional
from xml.sax.saxutils import escape

from lakehouse.services.process import ServiceError, read_pid, spawn, terminate, wait_until

# pyspark's own jars the mini cluster runs on: Hadoop's shaded client and the logging it uses.
PYSPARK_JARS = ("hadoop-client-api-", "hadoop-client-runtime-", "slf4j-api-", "log4j-api-", "log4j-core-",
                "log4j-slf4j2-impl-", "log4j-1.2-api-", "commons-logging-")
JAVA_17_OPENS = ("java.lang", "java.util", "java.lang.reflect", "java.net", "java.io", "java.nio", "sun.nio.ch")
LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {home}/yarn.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d %p %c: %m%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = file
"""


def hadoop_xml(properties: Mapping[str, str]) -> str:
    """A Hadoop configuration file (core-site.xml and friends) holding `properties`."""
    entries = "".join(f"  <property><name>{escape(k)}</name><value>{escape(str(v))}</value></property>\n"
                      for k, v in properties.items())
    return f'<?xml version="1.0"?>\n<configuration>\n{entries}</configuration>\n'


class YarnCluster:
    """One ResourceManager and one NodeManager in a JVM of their own, under `home`.

    Args:
        home: working folder (conf/, logs, the NodeManager's local and log folders).
        jars_dir: .local/jars/yarn (`make jars`).
        extra_classpath: more jars for the NodeManager, e.g. hadoop-aws and the AWS SDK for s3://.
        memory_mb, vcores: what the NodeManager offers to containers.
    """

    def __init__(self, home: Path, jars_dir: Path, extra_classpath: Sequence[str] = (),
                 memory_mb: int = 8192, vcores: int = 4, startup_timeout_s: float = 120.0):
        self.home = Path(home)
        self.jars_dir = Path(jars_dir)
        self.extra_classpath = list(extra_classpath)
        self.memory_mb, self.vcores = memory_mb, vcores
        self.startup_timeout_s = startup_timeout_s
        self.conf_dir = self.home / "conf"
        self.pid_file = self.home / "yarn.pid"
        self.log_file = self.home / "console.log"

    def describe(self) -> str:
        return f"YARN mini cluster under {self.home}"

    def running(self) -> bool:
        return read_pid(self.pid_file) is not None and (self.conf_dir / "yarn-site.xml").is_file()

    def start(self, core_site: Mapping[str, str]) -> None:
        """Starts the cluster with `core_site` as its core-site.xml; returns once it accepts applications."""
        java = shutil.which("java")
        if java is None:
            raise ServiceError("java not found: the YARN mini cluster needs Java 17 (make system-deps)")
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "yarn-site.xml").unlink(missing_ok=True)
        (self.conf_dir / "core-site.xml").write_text(hadoop_xml(core_site))
        (self.home / "log4j2.properties").write_text(LOG4J2.format(home=self.home))
        command = [
            java, "-Xmx1g", f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            *[f"--add-opens=java.base/{package}=ALL-UNNAMED" for package in JAVA_17_OPENS],
            "-cp", self._classpath(), "lakehouse.yarn.MiniYarn", str(self.conf_dir), str(self.memory_mb),
            str(self.vcores),
        ]
        # MiniYARNCluster keeps its folders under ./target: run it from `home`.
        pid = spawn(command, self.log_file, self.pid_file, cwd=self.home)
        wait_until(self.running, self.startup_timeout_s, self.describe(), pid, self.log_file)

    def stop(self) -> bool:
        return terminate(self.pid_file)

    def container_logs(self, application_id: str) -> list[Path]:
        """The log folders of an application's containers, the ApplicationMaster's (the driver) first."""
        return sorted(self.home.glob(f"target/**/*-logDir-nm-*/{application_id}/container_*"))

    def _classpath(self) -> str:
        if not (self.jars_dir / "lakehouse-yarn-1.jar").is_file():
            raise ServiceError(f"the YARN mini cluster's jars are not in {self.jars_dir}; run `make jars`")
        pyspark_jars = _pyspark_jars_dir()
        found = [str(p) for p in sorted(pyspark_jars.glob("*.jar")) if p.name.startswith(PYSPARK_JARS)]
        return ":".join([f"{self.jars_dir}/*", *found, *self.extra_classpath])


def _pyspark_jars_dir() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "jars"


def first_application_id(text: str) -> Optional[str]:
    """The first YARN application id in spark-submit's output, e.g. application_1700000000000_0001."""
    found = re.search(r"application_\d+_\d+", text)
    return found.group(0) if found else None
