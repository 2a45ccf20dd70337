"""The spark-submit command of every job, for EMR steps and for local runs alike.

On EMR the code and config come from a release on S3 (see lakehouse.orchestration.artifacts):
the wheel with `--py-files`, its Python dependencies with `--archives` (unpacked in every YARN
container and put first on PYTHONPATH: lakehouse.orchestration.python_env), the job file, and
conf/base.yaml + conf/<env>.yaml with `--files`, which YARN puts in the driver's working
directory, hence `--conf-dir .` (cluster deploy mode). A failed driver is not attempted again by
YARN: the step fails and Airflow's retry submits it again. Locally they come from this checkout.
Launch options (master, jars, driver memory) are `lakehouse.spark.session.spark_submit_args(cfg)`
in both cases; on EMR its jars are `spark.extra_jars`, the few the cluster lacks.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
from collections.abc import Sequence
from pathlib import Path

from lakehouse.config import Config
from lakehouse.orchestration.python_env import ALIAS, archive_name
from lakehouse.spark.session import spark_submit_args

DISTRIBUTION = "lakehouse-jobs"

# Job name -> file under jobs/ (the names agreed for streaming, batch, dbt and Airflow).
JOB_FILES = {
    "kafka_to_bronze": "jobs/streaming/kafka_to_bronze.py",
    "bronze_to_silver": "jobs/streaming/bronze_to_silver.py",
    "kafka_to_silver": "jobs/streaming/kafka_to_silver.py",
    "postgres_extract": "jobs/batch/postgres_extract.py",
    "files_to_bronze": "jobs/batch/files_to_bronze.py",
    "table_maintenance": "jobs/batch/table_maintenance.py",
}

EMR_STEP_NAME_MAX = 256


def job_file(job: str) -> str:
    """The job's file relative to the project root, e.g. jobs/batch/postgres_extract.py."""
    try:
        return JOB_FILES[job]
    except KeyError:
        raise ValueError(f"unknown job {job!r}; known jobs: {', '.join(sorted(JOB_FILES))}") from None


def package_version() -> str:
    return importlib.metadata.version(DISTRIBUTION)


def wheel_name(version: str) -> str:
    return f"{DISTRIBUTION.replace('-', '_')}-{version}-py3-none-any.whl"


def release_uri(cfg: Config, version: str | None = None) -> str:
    """The S3 prefix of one release: <emr.artifacts_uri>/<version> (the installed package's by default)."""
    return f"{cfg.emr.artifacts_uri.rstrip('/')}/{version or package_version()}"


def spark_submit_command(cfg: Config, job: str, job_args: Sequence[str] = (), version: str | None = None) -> list[str]:
    """The full `spark-submit ...` command line that runs `job` with `job_args` where cfg says.

    Args:
        cfg: the environment's config; `emr.runner` picks the release on S3 or this checkout.
        job: a key of JOB_FILES.
        job_args: the job's own flags, e.g. ["--mode", "incremental"].
        version: the release to run on EMR (the installed package's version by default).
    """
    path = job_file(job)
    command = ["spark-submit", *spark_submit_args(cfg)]
    if cfg.emr.runner == "emr":
        release = release_uri(cfg, version)
        # $PWD: the container's folder, expanded when YARN launches it (Airflow's Jinja leaves it alone).
        python_path = f"$PWD/{ALIAS}"
        command += [
            "--deploy-mode", "cluster",
            "--conf", "spark.yarn.maxAppAttempts=1",
            # The driver's AWS clients (Secrets Manager) work in the environment's region.
            "--conf", f"spark.yarn.appMasterEnv.AWS_DEFAULT_REGION={cfg.s3.region}",
            "--archives", f"{release}/{archive_name(cfg)}#{ALIAS}",
            "--conf", f"spark.yarn.appMasterEnv.PYTHONPATH={python_path}",
            "--conf", f"spark.executorEnv.PYTHONPATH={python_path}",
            "--py-files", f"{release}/{wheel_name(version or package_version())}",
            "--files", f"{release}/conf/base.yaml,{release}/conf/{cfg.env}.yaml",
            f"{release}/{path}",
        ]
        conf_dir = "."
    else:
        command.append(str(Path(cfg.project_root, path)))
        conf_dir = str(Path(cfg.project_root, "conf"))
    return [*command, "--env", cfg.env, "--conf-dir", conf_dir, *job_args]


def emr_step(
    cfg: Config, job: str, job_args: Sequence[str] = (), name: str | None = None, version: str | None = None
) -> dict:
    """The EMR step (command-runner.jar) that runs `job`; ActionOnFailure CONTINUE keeps the cluster.

    Without `name`, the step is named on submission by operators.IdempotentEmrAddStepsOperator
    (see `step_name`).
    """
    if cfg.emr.runner != "emr":
        raise ValueError(f"emr.runner is {cfg.emr.runner!r}: EMR steps exist only for the emr runner")
    step = {
        "ActionOnFailure": "CONTINUE",
        "HadoopJarStep": {"Jar": "command-runner.jar", "Args": spark_submit_command(cfg, job, job_args, version)},
    }
    return {"Name": name, **step} if name else step


def step_name(dag_id: str, task_id: str, run_id: str) -> str:
    """The deterministic step name of one task in one DAG run: retries of the task share it.

    Names longer than EMR's limit keep their start and end with a digest of the whole name.
    """
    name = f"{dag_id}.{task_id}.{run_id}"
    if len(name) <= EMR_STEP_NAME_MAX:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[:EMR_STEP_NAME_MAX - len(digest) - 1]}~{digest}"
