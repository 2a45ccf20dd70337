"""Incremental Postgres -> Delta extracts, correct under ties, late commits, crashes and concurrency.

How the pieces fit (README "Batch extracts"):
- identifiers: configured names are checked in information_schema and only ever used quoted;
- literals / position / window: the (cursor, key) position and the WHERE clauses built from typed values;
- bounds: the late-commit-safe upper bound and the end position below it (psycopg, bound parameters);
- read: Spark's JDBC read of one window (fetchsize, partitioned reads, read-only);
- state: the position lives in the Delta commit that wrote the data (user metadata + transaction id);
- modes / reconcile: incremental, full refresh, backfill, reconciliation; run: the job.
"""
