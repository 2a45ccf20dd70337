"""Benchmark harness: our Spark jobs side by side with the baselines a team would write (`make bench`)."""
