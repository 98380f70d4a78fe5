"""Which Salesforce changes a run reads.

A delta run reads ``[min(watermark, data_interval_start) - lookback, data_interval_end)``. Taking the
minimum means a run that starts after a gap re-reads everything since the last good run, and a
backfill of a past interval (whose start is older than the watermark) reads exactly that interval.
A manual run has no data interval: it reads from the watermark to the moment it was triggered.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Window:
    mode: str  # "full" or "delta"
    start: datetime | None  # None: from the beginning (a full load)
    end: datetime
    reason: str

    def to_xcom(self) -> dict:
        data = asdict(self)
        data["start"] = self.start.isoformat() if self.start else None
        data["end"] = self.end.isoformat()
        return data

    @classmethod
    def from_xcom(cls, data: dict) -> Window:
        return cls(
            mode=data["mode"],
            start=datetime.fromisoformat(data["start"]) if data["start"] else None,
            end=datetime.fromisoformat(data["end"]),
            reason=data["reason"],
        )


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # A plain datetime, not pendulum's subclass (Airflow's context values), whose arithmetic drops the zone.
    return datetime.fromtimestamp(value.timestamp(), tz=UTC)


def plan_window(
    *,
    mode: str,
    watermark: datetime | str | None,
    interval_start: datetime | str | None,
    interval_end: datetime | str | None,
    run_after: datetime | str,
    lookback: timedelta,
    since: datetime | str | None = None,
) -> Window:
    """Decide the half-open window ``[start, end)`` on the mapping's change field."""
    if mode not in ("full", "delta"):
        raise ValueError(f"mode must be 'full' or 'delta', got {mode!r}")
    watermark, interval_start = _utc(watermark), _utc(interval_start)
    end = _utc(interval_end) or _utc(run_after)
    if end is None:
        raise ValueError("a window needs an end: no data interval and no run_after")
    # SOQL datetime literals have whole seconds: the window (and so the watermark) ends on one too, so the
    # next run starts exactly where this one's query stopped.
    end = end.replace(microsecond=0)
    if mode == "full":
        return Window("full", None, end, "full load requested")
    if since is not None and since != "":
        start = _utc(since)
        if start >= end:
            raise ValueError(f"the 'since' param {start.isoformat()} is not before the window end {end.isoformat()}")
        return Window("delta", start, end, "start given by the 'since' param")
    candidates = [t for t in (watermark, interval_start) if t is not None]
    if not candidates:
        return Window("full", None, end, "no watermark yet and no data interval: first run is a full load")
    start = min(candidates) - lookback
    if start >= end:
        # A watermark ahead of a manual run's trigger time: nothing new to read, but never a negative window.
        start = end - lookback
    source = "watermark" if start + lookback == watermark else "data interval start"
    return Window("delta", start, end, f"from {source} minus {lookback} lookback")
