"""Readers of the operational sources: Postgres connections for Python-side access."""
