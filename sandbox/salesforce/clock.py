"""The org's clock and Salesforce's date/time text formats.

Audit fields, token expiry and getUpdated/getDeleted windows all read this clock, so tests can move
time (``POST /__sandbox__/clock``) instead of sleeping. Datetimes are stored in the REST output format
``YYYY-MM-DDThh:mm:ss.SSS+0000`` (always UTC, fixed width), which sorts correctly as text.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta

DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$")
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})Z?$")


class Clock:
    """Real time shifted by an offset the admin API can set; it keeps ticking after a jump."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, when: datetime) -> None:
        with self._lock:
            self._offset = when - datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += timedelta(seconds=seconds)


def format_datetime(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime:
    """Accept the input formats the APIs document (``Z``, ``±hh:mm``, ``±hhmm``, millis optional)."""
    match = DATETIME_RE.match(text.strip())
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, sec, frac, zone = match.groups()
    micro = int((frac or "0").ljust(6, "0"))
    value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(sec or 0), micro, tzinfo=UTC)
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        value -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return value


def parse_date(text: str) -> date:
    match = DATE_RE.match(text.strip())
    if not match:
        raise ValueError(text)
    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))


def normalise_datetime(text: str) -> str:
    return format_datetime(parse_datetime(text))

