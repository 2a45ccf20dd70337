"""Erasure of one person's records from the lake (right to be forgotten): `lakehouse-erase`.

targets: which tables hold a person and by which column; delete: one table's DELETE (the
append-only guard lifted for that commit only); retry: bounded retries of Delta conflicts;
retention: when the deleted files become unrecoverable; log: ops.erasure_log; source: the
Postgres check; job: the run that ties them together.
"""
