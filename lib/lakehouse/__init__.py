"""Lakehouse jobs: Kafka and Postgres ingestion into Delta Lake on Spark."""

__version__ = "0.1.0"
