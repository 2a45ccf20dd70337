"""The table maintenance job (`lakehouse-maintenance`): OPTIMIZE then VACUUM over the configured tables.

Tables come from `maintenance.tables` (`<layer>.<name>` -> ZORDER BY columns and switches); a
table not written yet is skipped and reported. `maintenance.parallelism` tables are maintained at
once, each in a thread of the driver; a line per table is printed as it finishes. One table failing
(a concurrent MERGE, say) does not stop the others; the job fails at the end naming every table that
failed.
"""
from __future__ import annotations

import argparse
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from lakehouse.config import Config
from lakehouse.config.model import MaintainedTableConfig
from lakehouse.maintenance.tables import is_delta_table, optimize, retention_check_lifted, vacuum

log = logging.getLogger(__name__)


class MaintenanceError(RuntimeError):
    """One or more tables could not be maintained."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tables", help="comma-separated <layer>.<name> subset of maintenance.tables (default: all)")
    parser.add_argument("--skip-optimize", action="store_true", help="do not OPTIMIZE")
    parser.add_argument("--skip-vacuum", action="store_true", help="do not VACUUM")
    parser.add_argument("--retention-hours", type=int, default=None,
                        help="VACUUM retention (default maintenance.vacuum_retention_hours, else each table's own)")
    parser.add_argument("--force-retention", action="store_true",
                        help="allow a VACUUM retention below Delta's 7-day default (dangerous)")
    parser.add_argument("--parallelism", type=int, default=None,
                        help="tables maintained at once (default maintenance.parallelism)")


def selected_tables(cfg: Config, names: Optional[str]) -> dict[str, MaintainedTableConfig]:
    configured = cfg.maintenance.tables
    if not names:
        return dict(configured)
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in configured]
    if unknown:
        raise MaintenanceError(f"not in maintenance.tables: {', '.join(unknown)} (known: {', '.join(configured)})")
    return {name: configured[name] for name in wanted}


def run(spark, cfg: Config, args: argparse.Namespace) -> list[str]:
    """Maintains the selected tables; prints one line per table saying what was done as it finishes,
    and returns the lines in the order of the tables."""
    retention = args.retention_hours if args.retention_hours is not None else cfg.maintenance.vacuum_retention_hours
    parallelism = args.parallelism if args.parallelism is not None else cfg.maintenance.parallelism
    if parallelism < 1:
        raise MaintenanceError(f"--parallelism must be at least 1, got {parallelism}")
    tables = selected_tables(cfg, args.tables)
    failed: list[str] = []
    printing = threading.Lock()  # one whole line at a time

    def maintain(name: str, table: MaintainedTableConfig) -> str:
        layer, table_name = name.split(".")
        path = cfg.lake.table_path(layer, table_name)
        started = time.monotonic()
        try:
            line = _maintain(spark, name, path, table, args, retention)
        except Exception as exc:
            log.exception("%s: maintenance failed", name)
            failed.append(name)
            line = f"{name}: FAILED ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        line += f" [{time.monotonic() - started:.1f}s]"
        with printing:
            print(line, flush=True)
        return line

    # Before touching any table; forcing lifts Delta's session-wide check once, around every thread.
    with retention_check_lifted(spark, None if args.skip_vacuum else retention, args.force_retention), \
            ThreadPoolExecutor(max(1, min(parallelism, len(tables))), "maintenance") as pool:
        lines = list(pool.map(maintain, tables, tables.values()))
    if failed:
        raise MaintenanceError(f"maintenance failed for {', '.join(name for name in tables if name in failed)}")
    return lines


def _maintain(spark, name: str, path: str, table: MaintainedTableConfig, args, retention: Optional[int]) -> str:
    if not is_delta_table(spark, path):
        return f"{name}: skipped, no Delta table at {path}"
    done = []
    if table.optimize and not args.skip_optimize:
        files = optimize(spark, path, table.zorder_by)
        how = f"OPTIMIZE ZORDER BY ({', '.join(table.zorder_by)})" if table.zorder_by else "OPTIMIZE"
        done.append(f"{how}: {files['files_removed']} files compacted into {files['files_added']}")
    if table.vacuum and not args.skip_vacuum:
        deleted = vacuum(spark, path, retention, args.force_retention)["files_deleted"]
        kept = "the table's own retention" if retention is None else f"{retention} h retention"
        done.append(f"VACUUM ({kept}): {deleted} files deleted")
    return f"{name}: " + ("; ".join(done) if done else "nothing to do (optimize and vacuum off)")
