"""Which query failures are Delta commit conflicts: a query failed on one is started again."""
from __future__ import annotations

import re

# Delta's commit conflicts: another writer changed the table while the batch was written (an
# erasure lifting bronze's append-only guard, OPTIMIZE beside a MERGE). Not ConcurrentTransaction-
# Exception: that one means another run of the same query, which the checkpoint lock should forbid.
CONFLICTS = ("MetadataChangedException", "ProtocolChangedException", "ConcurrentAppendException",
             "ConcurrentDeleteReadException", "ConcurrentDeleteDeleteException", "ConcurrentWriteException")
_CONFLICT = re.compile(r"\b(?:" + "|".join(CONFLICTS) + r")\b")


def is_commit_conflict(error) -> bool:
    """True when a query failed on a Delta commit conflict (named in its error's text): started again
    from its checkpoint, it re-runs the batch, which Delta's transaction id writes once."""
    return error is not None and _CONFLICT.search(str(error)) is not None
