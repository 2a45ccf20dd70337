"""Baselines B1, B2, C0, C1: what a team would write instead of our Spark jobs, measured in the same run."""
