"""Kafka -> bronze -> silver streaming jobs: run functions, foreachBatch handlers and their guards."""
