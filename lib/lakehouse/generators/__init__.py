"""Synthetic traffic for the three topics, with known ground truth (demo, tests, benchmark)."""
