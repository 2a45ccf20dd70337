"""Spark batch jobs: Postgres extracts, file ingestion, table maintenance."""
