"""Packaging of the lakehouse jobs: the `lakehouse` library and the `jobs/` entry points.

The wheel goes to EMR with `--py-files`; the console scripts run the same jobs on a laptop.
Runtime pins follow EMR 7.x (Spark 3.5, Delta 3.3, Python 3.9); exact versions for development
live in requirements/constraints.txt.
"""
from setuptools import find_packages, setup

# What the jobs import on the cluster. EMR provides pyspark; requirements/cluster.txt pins the rest
# for EMR's Python 3.9, and tests/unit/test_cluster_requirements.py keeps the three in step.
RUNTIME = [
    "pyspark>=3.5.3,<3.6",
    "py4j>=0.10.9.7,<0.11",   # pyspark's own (EMR provides it too): imported for java_import
    "delta-spark>=3.3.0,<3.4",
    "PyYAML>=5.4",
    # The Postgres extract's driver-side queries (catalog checks, bounds); 3.2.x on EMR's Python 3.9.
    "psycopg[binary]>=3.1",
    # Kafka offset look-ups at a streaming job's start (data-loss checks, start positions).
    "confluent-kafka>=2.3",
    # secretsmanager: references; CloudWatch: job metrics (botocore for the client's timeouts).
    "boto3>=1.28",
    "botocore>=1.31",
    # MSK IAM sign-in of the Kafka offset look-ups (lakehouse.kafka.auth; kafka.authentication iam).
    "aws-msk-iam-sasl-signer-python>=1.0",
    # The driver's per-query lineage runs and dbt's (lakehouse.lineage); 1.45 is the last for Python 3.9.
    "openlineage-python>=1.45",
]

EXTRAS = {
    # Local services, producers and the source generator.
    "local": [
        "orjson>=3.9",
        "moto[server]>=5.0",
    ],
    "dbt": [
        "dbt-core>=1.11,<1.12",
        "dbt-duckdb>=1.11,<1.12",
        "duckdb>=1.1",   # read by lakehouse.warehouse and the dbt tests (SET VARIABLE needs 1.1)
        "dbt-snowflake>=1.11",
        "deltalake>=1.0",
        "fakesnow[server]>=0.12",
    ],
    "airflow": [
        "apache-airflow>=3.1,<4",
        "apache-airflow-providers-amazon>=9.0",
        "aiobotocore>=3.0",  # deferred EMR waits run in the triggerer on aiobotocore
        "deltalake>=1.0",    # dbt tasks append their tests' results to ops.quality_results
        "astronomer-cosmos>=1.10",
    ],
    "bench": [
        "pyarrow>=14",
        "deltalake>=1.0",
        "connectorx>=0.4",
    ],
    "test": [
        "pytest>=8",
        "pytest-timeout>=2.3",
        "chispa>=0.10",
        "ruff>=0.6",
        "python-hcl2>=8.1",  # parses infra/*.tf in tests (terraform itself is not installed)
    ],
}
EXTRAS["dev"] = sorted({req for reqs in EXTRAS.values() for req in reqs})

JOB_SCRIPTS = {
    # name: module:function, filled in as jobs land
    "lakehouse-maintenance": "lakehouse_jobs.batch.table_maintenance:main",
    "lakehouse-erase": "lakehouse_jobs.batch.erase_person:main",
    "lakehouse-ship-artifacts": "lakehouse_jobs.tools.ship_artifacts:main",
    "lakehouse-bronze": "lakehouse_jobs.streaming.kafka_to_bronze:main",
    "lakehouse-silver": "lakehouse_jobs.streaming.bronze_to_silver:main",
    "lakehouse-bronze-silver": "lakehouse_jobs.streaming.kafka_to_silver:main",
    "lakehouse-produce": "lakehouse_jobs.tools.produce_events:main",
    "lakehouse-postgres-extract": "lakehouse_jobs.batch.postgres_extract:main",
    "lakehouse-files-ingest": "lakehouse_jobs.batch.files_to_bronze:main",
    "lakehouse-seed-postgres": "lakehouse_jobs.tools.seed_postgres:main",
    "lakehouse-cds": "lakehouse_jobs.tools.cds_archive:main",
}

setup(
    name="lakehouse-jobs",
    version="0.1.0",
    description="Kafka and Postgres ingestion into Delta Lake on Spark, dbt models and Airflow DAGs.",
    python_requires=">=3.9",
    package_dir={"": "lib", "lakehouse_jobs": "jobs"},
    packages=[
        *find_packages("lib"),
        *(f"lakehouse_jobs.{name}" if name else "lakehouse_jobs" for name in ("", "streaming", "batch", "tools")),
    ],
    include_package_data=True,
    install_requires=RUNTIME,
    extras_require=EXTRAS,
    entry_points={
        "console_scripts": [
            "lakehouse-services=lakehouse_jobs.tools.services:main",
            "lakehouse-demo=lakehouse_jobs.tools.demo:main",
            "lakehouse-status=lakehouse_jobs.tools.status:main",
        ]
        + [f"{name}={target}" for name, target in JOB_SCRIPTS.items()],
    },
)
