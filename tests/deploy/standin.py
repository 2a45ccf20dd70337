"""An EMR 7 cluster on this machine: what a step gets from EMR, built from the same parts.

EMR's command-runner.jar runs a step's arguments as a command on the primary node, where
`spark-submit` is Spark's, set up for the cluster's YARN (`spark.master yarn`), with EMR's own
libraries on the drivers' and executors' class path (Delta, turned on by `delta-defaults`; the S3
file system behind `s3://`) and `python3` as PySpark's Python. Here:

- YARN: Hadoop's mini cluster (lakehouse.services.yarn), one ResourceManager and one NodeManager;
- Spark: pyspark's own distribution plus spark-yarn, as a SPARK_HOME of links with its
  spark-defaults.conf;
- Delta and `s3://`: the Maven jars of `make jars` (delta-spark, delta-storage; hadoop-aws with
  `s3://` served by S3A against the moto endpoint, where EMR serves it with EMRFS);
- python3: a bare Python 3.9 virtualenv without a single package, so a job gets only what its
  release ships (the wheel and the packed dependencies).

What differs from the environment's own endpoints (Kafka, Postgres, the AWS APIs) reaches the
drivers as environment variables of the cluster (`spark.yarn.appMasterEnv.*`), the way a
cluster's configuration sets them; the job code, its config files and its command are the release's.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lakehouse.services.yarn import YarnCluster
from lakehouse.spark.session import SHORT_LIVED_JVM_OPTIONS

PYTHON_VERSION = "3.9"     # EMR 7's python3
CLUSTER_JARS = ("delta-spark_", "delta-storage-", "hadoop-aws-", "aws-java-sdk-bundle-")


@dataclass
class Endpoints:
    """Where the stand-in's AWS APIs are and the credentials it signs with (moto accepts any)."""

    aws_url: str
    region: str
    access_key: str
    secret_key: str

    def s3a(self) -> dict[str, str]:
        """core-site.xml: `s3://` (and `s3a://`) through S3A against the endpoint.

        Only the FileSystem API is mapped (S3A's FileContext binding insists on the s3a scheme): Spark's
        streaming checkpoints then use their FileSystem-based manager on `s3://`, as on any S3A path.
        """
        return {
            "fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
            "fs.s3a.endpoint": self.aws_url,
            "fs.s3a.endpoint.region": self.region,
            "fs.s3a.path.style.access": "true",
            "fs.s3a.connection.ssl.enabled": "false",
            "fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            "fs.s3a.access.key": self.access_key,
            "fs.s3a.secret.key": self.secret_key,
        }

    def aws_environment(self) -> dict[str, str]:
        """What an instance profile gives boto3 on a node, pointed at the endpoint."""
        return {"AWS_ENDPOINT_URL": self.aws_url, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_DEFAULT_REGION": self.region}


@dataclass
class EmrStandIn:
    """The primary node's view of the cluster: its spark-submit, Hadoop config and python3."""

    home: Path
    yarn: YarnCluster
    spark_home: Path
    python: Path
    driver_environment: dict[str, str] = field(default_factory=dict)

    def command_environment(self) -> dict[str, str]:
        """The environment command-runner.jar runs a step's command with: nothing of this process's."""
        env = {
            "PATH": f"{self.spark_home / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home / "hadoop"),
            "SPARK_HOME": str(self.spark_home),
            "SPARK_CONF_DIR": str(self.spark_home / "conf"),
            "HADOOP_CONF_DIR": str(self.yarn.conf_dir),
            "LANG": "C.UTF-8",
        }
        if os.environ.get("JAVA_HOME"):
            env["JAVA_HOME"] = os.environ["JAVA_HOME"]
        return env

    def stop(self) -> None:
        self.yarn.stop()

    def save(self, path: Path) -> None:
        """Writes where the node's parts are, for another process (tests/deploy/aws_standin.py)."""
        path.write_text(json.dumps({"home": str(self.home), "yarn_home": str(self.yarn.home),
                                    "yarn_jars": str(self.yarn.jars_dir), "spark_home": str(self.spark_home),
                                    "python": str(self.python), "driver_environment": self.driver_environment}))

    @classmethod
    def load(cls, path: Path) -> EmrStandIn:
        saved = json.loads(path.read_text())
        return cls(Path(saved["home"]), YarnCluster(Path(saved["yarn_home"]), Path(saved["yarn_jars"])),
                   Path(saved["spark_home"]), Path(saved["python"]), saved["driver_environment"])


def start_standin(home: Path, project_root: Path, endpoints: Endpoints,
                  driver_environment: Mapping[str, str]) -> EmrStandIn:
    """Builds the node (Spark home, python3) and starts its YARN cluster under `home`."""
    spark_jars = project_root / ".local" / "jars" / "spark"
    cluster_jars = [str(p) for p in sorted(spark_jars.glob("*.jar")) if p.name.startswith(CLUSTER_JARS)]
    assert len(cluster_jars) == len(CLUSTER_JARS), f"missing cluster jars in {spark_jars}: run `make jars`"
    yarn_jars = project_root / ".local" / "jars" / "yarn"
    yarn = YarnCluster(home / "yarn", yarn_jars, extra_classpath=cluster_jars)
    yarn.home.mkdir(parents=True, exist_ok=True)
    python = bare_python(home / "python3")
    driver_environment = {**endpoints.aws_environment(), **driver_environment}
    spark_home = spark_distribution(home / "spark", yarn_jars, cluster_jars, python, driver_environment)
    (home / "hadoop").mkdir(parents=True, exist_ok=True)
    yarn.start(endpoints.s3a())
    return EmrStandIn(home, yarn, spark_home, python, dict(driver_environment))


def spark_distribution(folder: Path, yarn_jars: Path, cluster_jars: list[str], python: Path,
                       driver_environment: Mapping[str, str]) -> Path:
    """A SPARK_HOME: pyspark's bin/, python/ and jars/ (plus spark-yarn) as links, and its conf/."""
    import pyspark

    pyspark_home = Path(pyspark.__file__).parent
    (folder / "jars").mkdir(parents=True, exist_ok=True)
    (folder / "conf").mkdir(exist_ok=True)
    for name in ("bin", "python"):
        link = folder / name
        if not link.exists():
            link.symlink_to(pyspark_home / name, target_is_directory=True)
    for jar in [*pyspark_home.joinpath("jars").glob("*.jar"), *yarn_jars.glob("spark-yarn_*.jar")]:
        link = folder / "jars" / jar.name
        if not link.exists():
            link.symlink_to(jar)
    class_path = ":".join(cluster_jars)
    defaults = {
        "spark.master": "yarn",
        "spark.submit.deployMode": "client",
        "spark.yarn.jars": f"local:{folder / 'jars'}/*",   # Spark is installed on every node
        "spark.pyspark.python": str(python),
        "spark.driver.extraClassPath": class_path,
        "spark.executor.extraClassPath": class_path,
        "spark.driver.memory": "1g",
        "spark.executor.memory": "1g",
        "spark.executor.instances": "1",
        "spark.executor.cores": "2",
        "spark.ui.enabled": "false",
        # Short-lived JVMs on two cores: the client compiler alone starts them faster.
        "spark.driver.extraJavaOptions": SHORT_LIVED_JVM_OPTIONS,
        "spark.executor.extraJavaOptions": SHORT_LIVED_JVM_OPTIONS,
        "spark.yarn.scheduler.heartbeat.interval-ms": "500",
        # Sized for the node's 2 cores, as the shuffle partitions are (conftest.cluster_overrides): Delta
        # rebuilds a table's state in 50 tasks by default: 1450 of the 1788 tasks of silver's step.
        "spark.databricks.delta.snapshotPartitions": "2",
    }
    for name, value in driver_environment.items():
        defaults[f"spark.yarn.appMasterEnv.{name}"] = value
        defaults[f"spark.executorEnv.{name}"] = value
    (folder / "conf" / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in defaults.items()))
    # spark-submit itself reads the release from s3:// (EMR's spark-env.sh puts EMRFS there the same way).
    (folder / "conf" / "spark-env.sh").write_text(f"export SPARK_DIST_CLASSPATH={class_path}\n")
    return folder


def bare_python(folder: Path) -> Path:
    """A virtualenv of Python 3.9 (EMR 7's python3) with no packages; this interpreter's version if
    no Python 3.9 is installed (the deploy tests then build the release for that version)."""
    base = find_python(PYTHON_VERSION) or sys.executable
    if not (folder / "bin" / "python").exists():
        subprocess.run([base, "-m", "venv", "--without-pip", str(folder)], check=True, capture_output=True)
    return folder / "bin" / "python"


def python_version(python: Path) -> str:
    result = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


def find_python(version: str) -> str | None:
    """An installed `python<version>`: on the PATH, or one that pyenv or the system keeps off it."""
    candidates = [shutil.which(f"python{version}") or "",
                  *sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}"))),
                  f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            probe = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=False)
            if probe.returncode == 0:
                return candidate
    return None
