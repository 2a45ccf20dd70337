"""Files as Airbyte's S3 destination lands a Salesforce Account stream (JSON Lines, one sync per file).

Names follow Airbyte's default path format, `<YYYY>_<MM>_<DD>_<epoch ms>_<part>.jsonl`. A file is
written under a dot-name and renamed into place, so a reader never sees half of one (Spark's
file source ignores names starting with a dot; on S3, Airbyte's uploads are atomic).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import string
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

ID_ALPHABET = string.ascii_uppercase + string.digits  # Account ids: "001" + 15 characters
INDUSTRIES = ("Technology", "Finance", "Retail", "Healthcare", "Manufacturing", None)
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark")
COUNTRIES = ("United States", "Germany", "France", "Japan", "Canada", None)


def salesforce_time(moment: dt.datetime) -> str:
    """Salesforce's date-time format, as Airbyte passes it on: 2024-05-01T12:00:00.000Z."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def account_record(account_id: str, name: Optional[str], last_modified: dt.datetime,
                   created: Optional[dt.datetime] = None, industry: Optional[str] = None,
                   annual_revenue: Any = None, billing_country: Optional[str] = None) -> dict[str, Any]:
    """One Account as the Salesforce source emits it in `_airbyte_data`."""
    return {
        "Id": account_id,
        "Name": name,
        "Industry": industry,
        "AnnualRevenue": annual_revenue,
        "BillingCountry": billing_country,
        "CreatedDate": salesforce_time(created or last_modified),
        "LastModifiedDate": salesforce_time(last_modified),
    }


def write_sync_file(folder: str, records: Sequence[dict], extracted_at: dt.datetime, sync_id: int,
                    rng: random.Random, part: int = 0, extra_lines: Sequence[str] = ()) -> Path:
    """Writes one sync's records (plus `extra_lines` as they are, e.g. a truncated line) atomically."""
    millis = int(extracted_at.timestamp() * 1000)
    lines = [
        json.dumps({
            "_airbyte_raw_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "_airbyte_extracted_at": millis,
            "_airbyte_generation_id": 0,
            "_airbyte_meta": {"sync_id": sync_id, "changes": []},
            "_airbyte_data": record,
        })
        for record in records
    ]
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    name = f"{extracted_at:%Y_%m_%d}_{millis}_{part}.jsonl"
    temporary = target / f".{name}.tmp"
    temporary.write_text("\n".join([*lines, *extra_lines]) + "\n")
    os.replace(temporary, target / name)
    return target / name


def land_account_syncs(folder: str, syncs: int = 3, accounts: int = 25, changed_per_sync: int = 8,
                       seed: Optional[int] = 1, start: Optional[dt.datetime] = None) -> list[Path]:
    """A plausible series of incremental syncs: the first carries every account, each later one the
    accounts modified since, plus the previous sync's last record again (Airbyte's cursor is >=).

    The same seed and start give the same files (seed None: fresh accounts and record ids).
    """
    if "://" in folder:
        raise ValueError(f"landing files is for local lakes only, not {folder}")
    rng = random.Random(seed)
    clock = start or dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    ids = ["001" + "".join(rng.choice(ID_ALPHABET) for _ in range(15)) for _ in range(accounts)]
    names = {i: f"{rng.choice(COMPANIES)} {n}" for n, i in enumerate(ids)}
    created = {i: clock - dt.timedelta(days=rng.randint(30, 900)) for i in ids}
    paths, previous_last = [], None
    for sync in range(syncs):
        changed = ids if sync == 0 else rng.sample(ids, min(changed_per_sync, accounts))
        records = []
        for account_id in changed:
            clock += dt.timedelta(seconds=rng.randint(1, 600))
            revenue = round(rng.lognormvariate(15, 2), 2) if rng.random() > 0.1 else None
            records.append(account_record(account_id, names[account_id], clock, created[account_id],
                                          rng.choice(INDUSTRIES), revenue, rng.choice(COUNTRIES)))
        if previous_last is not None:
            records.insert(0, previous_last)
        previous_last = records[-1]
        paths.append(write_sync_file(folder, records, clock + dt.timedelta(minutes=1), sync + 1, rng))
        clock += dt.timedelta(hours=6)
    return paths
