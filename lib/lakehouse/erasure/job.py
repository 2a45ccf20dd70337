"""The erasure job (`lakehouse-erase`): removes people's records from every lake table holding them.

Order: repair an append-only guard an interrupted run left off; warn about source rows still in
Postgres; erase bronze, then quarantine, then silver (so no later silver batch brings the rows back
from bronze); log the run in ops.erasure_log; print when each table's deleted files become
unrecoverable, the VACUUM that makes it final, and the dbt full refresh the warehouse needs. A
second run removes nothing and logs that.
"""
from __future__ import annotations

import argparse
import datetime as dt
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Optional

from lakehouse.config import Config
from lakehouse.erasure import log as erasure_log
from lakehouse.erasure.delete import TableErasure, erase_rows, is_append_only, restore_append_only
from lakehouse.erasure.retention import retention_of, unrecoverable_after
from lakehouse.erasure.source import source_warnings
from lakehouse.erasure.targets import ErasureTarget, erasure_targets
from lakehouse.maintenance.tables import is_delta_table, vacuum

log = logging.getLogger(__name__)

USER_ID = re.compile(r"[1-9][0-9]{0,18}")   # a users.user_id, as the contracts accept it


class ErasureError(RuntimeError):
    """The request is invalid, or a table could not be erased."""


@dataclass(frozen=True)
class ErasureRequest:
    user_ids: tuple[str, ...]
    requested_by: str
    request_id: str
    vacuum: bool = False


@dataclass
class ErasureReport:
    run_id: str
    tables: list[TableErasure] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def removed(self, table: str) -> int:
        return next((t.rows_removed for t in self.tables if t.table == table), 0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user-id", action="append", default=[], help="a user id to erase (repeatable)")
    parser.add_argument("--ids-file", help="a file of user ids, one per line (blank lines and # comments skipped)")
    parser.add_argument("--requested-by", required=True, help="who asked for the erasure (recorded in the log)")
    parser.add_argument("--request-id", help="the request's id in the requester's ticket (default: a new UUID)")
    parser.add_argument("--vacuum", action="store_true",
                        help="VACUUM the erased tables now with their own retention (never below it)")


def request_from(args: argparse.Namespace) -> ErasureRequest:
    ids = list(args.user_id)
    if args.ids_file:
        with open(args.ids_file) as lines:
            ids += [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]
    return make_request(ids, args.requested_by, args.request_id, args.vacuum)


def make_request(user_ids: Sequence[str], requested_by: str, request_id: Optional[str] = None,
                 vacuum_now: bool = False) -> ErasureRequest:
    ids = tuple(dict.fromkeys(str(i).strip() for i in user_ids))
    if not ids:
        raise ErasureError("no user id given (--user-id or --ids-file)")
    invalid = [i for i in ids if not USER_ID.fullmatch(i)]
    if invalid:
        raise ErasureError(f"{len(invalid)} id(s) are not user ids (decimal, 1 or more, no leading zero)")
    if not requested_by.strip():
        raise ErasureError("--requested-by must name who asked for the erasure")
    return ErasureRequest(ids, requested_by.strip(), request_id or str(uuid.uuid4()), vacuum_now)


def run(spark, cfg: Config, args: argparse.Namespace) -> ErasureReport:
    return erase(spark, cfg, request_from(args))


def erase(spark, cfg: Config, request: ErasureRequest) -> ErasureReport:
    """Erases the request's people from every table holding them; prints and returns what it did."""
    report = ErasureReport(run_id=str(uuid.uuid4()))
    say = _printer(report)
    targets = [t for t in erasure_targets(cfg) if is_delta_table(spark, t.path)]
    report.repaired = [t.name for t in targets if restore_append_only(spark, t)]
    for name in report.repaired:
        say(f"{name}: delta.appendOnly was off (an interrupted erasure): set back to true")
    for warning in source_warnings(cfg, request.user_ids):
        say(warning)
    erased_at = dt.datetime.now(dt.timezone.utc)
    rows = []
    try:
        for target in targets:
            outcome = erase_rows(spark, target, request.user_ids)
            report.tables.append(outcome)
            retention = retention_of(spark, target.path)
            final_at = unrecoverable_after(erased_at, retention) if outcome.rows_removed else None
            rows.append(erasure_log.ErasureLogRow(
                request.request_id, report.run_id, request.requested_by, erased_at, erased_at.date(),
                len(request.user_ids), target.name, outcome.rows_removed, outcome.rows_unattributed,
                outcome.version, retention, final_at))
            say(_outcome_line(outcome, retention, final_at))
    finally:  # a table that failed still leaves the log of the tables erased before it
        if rows:
            erasure_log.append(spark, cfg.lake.table_path(*erasure_log.TABLE), rows)
            say(f"logged in ops.erasure_log: request {request.request_id}, run {report.run_id}, "
                f"by {request.requested_by}, {len(rows)} of {len(targets)} tables")
    _check_guards(spark, targets)
    if request.vacuum:
        _vacuum(spark, targets, say)
    _warehouse_hint([t for t in targets if report.removed(t.name)], say)
    return report


def _outcome_line(outcome: TableErasure, retention: str, final_at: Optional[dt.datetime]) -> str:
    line = f"{outcome.table}: {outcome.rows_removed} rows removed"
    if outcome.rows_unattributed:
        line += f", {outcome.rows_unattributed} rows not attributable (reported, kept)"
    if final_at is not None:
        line += (f"; deleted files unrecoverable after {final_at:%Y-%m-%d %H:%M} UTC "
                 f"({retention}: VACUUM on or after then)")
    return line


def _check_guards(spark, targets: Sequence[ErasureTarget]) -> None:
    left_off = [t.name for t in targets if t.append_only and not is_append_only(spark, t.path)]
    if left_off:
        raise ErasureError(f"delta.appendOnly is off on {', '.join(left_off)}: run lakehouse-erase again")


def _vacuum(spark, targets: Sequence[ErasureTarget], say) -> None:
    """VACUUM with each table's own retention: deletes the files of erasures older than it."""
    for target in targets:
        deleted = vacuum(spark, target.path)["files_deleted"]
        say(f"{target.name}: VACUUM with the table's retention deleted {deleted} files "
            "(this run's files only once the retention has passed)")


def _warehouse_hint(changed: Sequence[ErasureTarget], say) -> None:
    selectors = [t.dbt_selector for t in changed if t.dbt_selector]
    if not selectors:
        say("warehouse: no dbt source changed, nothing to rebuild")
        return
    say("warehouse: rebuild what dbt built from the erased rows: "
        f"dbt build --full-refresh --project-dir dbt --profiles-dir dbt --select {' '.join(selectors)}")
    if "source:users.users+" in selectors:
        say("warehouse: the snapshot snap_users keeps past versions (a full refresh does not rebuild snapshots): "
            "delete the person's rows from it in the warehouse (the user ids are in the request's ticket)")


def _printer(report: ErasureReport):
    def say(line: str) -> None:
        print(line, flush=True)
        report.lines.append(line)
    return say
