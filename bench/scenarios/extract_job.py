"""S6's driver, run by spark-submit: the postgres_extract job, unchanged, with its phases recorded.

The job's own `main` runs inside one lakehouse.ops.phases record (Spark start-up and stop, catalog
checks, committed state, bounds, the JDBC read, the Delta write or MERGE with its commit, metrics);
the record goes to `--phases-out` as JSON with this process's start and end (epoch seconds), so the
scenario can add what came before (spark-submit and the JVM) and after (exit).

    spark-submit ... bench/scenarios/extract_job.py --phases-out phases.json <postgres_extract flags>
"""
from __future__ import annotations

import time

STARTED_AT = time.time()  # before the imports: they are part of the start-up

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def main(argv=None) -> int:
    from jobs.batch import postgres_extract
    from lakehouse.ops import phases

    argv = list(sys.argv[1:] if argv is None else argv)
    at = argv.index("--phases-out")
    out = Path(argv[at + 1])
    del argv[at:at + 2]
    records: list[dict] = []
    phases.install(records.append)
    imported_at = time.time()
    try:
        with phases.batch("postgres_extract", 0):
            status = postgres_extract.main(argv)
    finally:
        phases.install(None)
    record = records[0] if records else {"phases": {}}
    # The process's start last: the record's own started_at is when its first phase began.
    out.write_text(json.dumps({**record, "started_at": STARTED_AT, "imports_s": imported_at - STARTED_AT,
                               "ended_at": time.time()}))
    return status


if __name__ == "__main__":
    sys.exit(main())
