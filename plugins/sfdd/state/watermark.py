"""Per-sync watermarks kept in Airflow Variables, so an operator can see and edit them in the UI.

The value is JSON: ``{"timestamp": ISO-8601 UTC, "run_id": ...}``. It only ever moves forward, and
only the commit task (which runs after load and reconcile succeeded) moves it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

PREFIX = "sfdd_watermark__"


def variable_key(sync_name: str) -> str:
    return f"{PREFIX}{sync_name}"


def parse(raw: str | None) -> datetime | None:
    if not raw:
        return None
    value = json.loads(raw)
    ts = datetime.fromisoformat(value["timestamp"].replace("Z", "+00:00"))
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def read(sync_name: str) -> datetime | None:
    from airflow.sdk import Variable

    return parse(Variable.get(variable_key(sync_name), default=None))


def advance(current: datetime | None, candidate: datetime) -> datetime:
    """The watermark never goes back, even when a backfill of an old interval finishes last."""
    return candidate if current is None or candidate > current else current


def commit(sync_name: str, candidate: datetime, run_id: str) -> dict:
    from airflow.sdk import Variable

    current = read(sync_name)
    new = advance(current, candidate)
    if new != current:
        Variable.set(variable_key(sync_name), json.dumps({"timestamp": new.isoformat(), "run_id": run_id}),
                     description=f"Last fully synced change time of sync {sync_name!r}")
    return {"previous": current.isoformat() if current else None, "committed": new.isoformat(),
            "moved": new != current}
