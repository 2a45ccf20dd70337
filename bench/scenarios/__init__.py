"""Scenarios S1..S7: our jobs, run as spark-submit processes the way users run them."""
