"""A checkpoint restored from a backup, or with its latest batches deleted, is behind its tables.

Delta's transaction ids (app id, batch id) skip a write whose batch id is not above the last one
committed for the app id. A rewound checkpoint plans again batch ids the tables already committed,
now over other offsets (usually more records): Delta would skip them and lose what they add. The
checkpoint's offset log names the last batch it planned; a table whose last transaction for the
app id is above that has committed batches this checkpoint does not know: it was rewound. (A batch
committed but not yet marked done in the checkpoint is re-run with the offsets it was planned with:
its id is not above the log's last, and Delta's skip is right.)

What then: bronze moves the checkpoint aside and continues after the rows it holds (start.py);
silver writes on under a new app id (`rekey_if_rewound`): its keyed MERGEs make the batches it
re-reads change nothing, as for a new checkpoint.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Optional

from lakehouse.sinks.delta import last_txn_version
from lakehouse.streaming.checkpoint import batch_ids, read_text, write_text

log = logging.getLogger(__name__)

APP_ID_FILE = "lakehouse_txn_app_id"
REKEYED = "-rekeyed-"


def tables_ahead(spark, checkpoint: str, app_id: str, table_paths: Sequence[str]) -> dict[str, int]:
    """The tables whose last transaction for `app_id` is above the checkpoint's last planned batch."""
    planned = batch_ids(spark, f"{checkpoint}/offsets")
    last_planned = planned[-1] if planned else -1
    versions = {path: last_txn_version(spark, path, app_id) for path in table_paths}
    return {path: v for path, v in versions.items() if v is not None and v > last_planned}


def describe_rewind(checkpoint: str, ahead: dict[str, int]) -> str:
    tables = ", ".join(f"{path} at batch {version}" for path, version in sorted(ahead.items()))
    return f"checkpoint {checkpoint} is behind its tables ({tables}): it was restored or rewound"


def rekeyed_app_id(spark, checkpoint: str) -> Optional[str]:
    """The app id `rekey_if_rewound` gave the checkpoint, if any."""
    text = read_text(spark, f"{checkpoint}/{APP_ID_FILE}")
    return text.strip() if text else None


def rekey_if_rewound(spark, checkpoint: str, app_id: str, table_paths: Sequence[str]) -> str:
    """The app id the checkpoint's next batches write under: `app_id`, or a new one (unique: a backup
    may be restored twice) recorded in the checkpoint when a table is ahead of it for `app_id`."""
    ahead = tables_ahead(spark, checkpoint, app_id, table_paths)
    if not ahead:
        return app_id
    new_id = f"{app_id.split(REKEYED)[0]}{REKEYED}{uuid.uuid4().hex[:12]}"
    write_text(spark, f"{checkpoint}/{APP_ID_FILE}", new_id)
    log.warning("%s; its batches write under the new app id %s, the keyed MERGEs skip rows already written",
                describe_rewind(checkpoint, ahead), new_id)
    return new_id
