"""Spark Structured Streaming jobs: Kafka to bronze, bronze to silver."""
