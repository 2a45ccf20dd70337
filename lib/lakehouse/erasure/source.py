"""The Postgres source is the application's, not the lake's: the erasure never writes to it. But an
incremental extract re-imports a person whose source rows are still there (whenever they change,
or on a full run), so the job looks for them and warns that the source must be erased first."""
from __future__ import annotations

import logging
from collections.abc import Sequence

from lakehouse.config import Config

log = logging.getLogger(__name__)


def source_warnings(cfg: Config, user_ids: Sequence[str]) -> list[str]:
    """One warning per extract table whose source still holds rows of `user_ids`."""
    from psycopg import sql

    from lakehouse.sources.postgres import connect

    tables = {name: spec for name, spec in cfg.extract.tables.items() if spec.person_column}
    if not tables:
        return []
    warnings = []
    try:
        with connect(cfg.postgres, "lakehouse-erase") as conn:
            for name, spec in tables.items():
                query = sql.SQL("SELECT count(*) FROM {} WHERE {} = ANY(%s)").format(
                    sql.Identifier(spec.schema, spec.table), sql.Identifier(spec.person_column))
                found = conn.execute(query, ([int(i) for i in user_ids],)).fetchone()[0]
                if found:
                    warnings.append(
                        f"WARNING: the source {spec.schema}.{spec.table} still holds {found} row(s) of the erased "
                        f"person(s): the next extract of '{name}' can bring them back. The application must erase "
                        "them at the source first; then run lakehouse-erase again.")
    except Exception as exc:  # the lake erasure goes on; the operator must check the source by hand
        log.warning("could not check the Postgres source: %s", exc)
        warnings.append(f"WARNING: could not check the Postgres source ({type(exc).__name__}): make sure the "
                        "application erased the person there, or the next extract can bring them back.")
    return warnings
