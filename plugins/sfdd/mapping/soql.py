"""SOQL for a sync: the fields a mapping needs, over a half-open window of its change field.

The window is half-open, ``[start, end)``, so consecutive windows tile time without reading a
record twice or missing one at the boundary; a backfill of a range reads exactly that range.
SOQL datetime literals are unquoted UTC (``2026-01-01T00:00:00Z``); Salesforce stores
SystemModstamp to the second, so sub-second parts of the bounds are dropped on both sides alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sfdd.mapping.model import SyncMapping


def soql_datetime(value: datetime) -> str:
    """A SOQL dateTime literal in UTC. A naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_condition(field: str, start: datetime | None, end: datetime | None) -> str | None:
    """``field >= start AND field < end`` for whichever bounds are given."""
    if start is not None and end is not None and start >= end:
        raise ValueError(f"empty window: start {start.isoformat()} is not before end {end.isoformat()}")
    parts = []
    if start is not None:
        parts.append(f"{field} >= {soql_datetime(start)}")
    if end is not None:
        parts.append(f"{field} < {soql_datetime(end)}")
    return " AND ".join(parts) or None


def build_query(mapping: SyncMapping, start: datetime | None, end: datetime | None) -> str:
    """The Bulk API 2.0 query for one window of a sync (``None`` bounds leave that side open).

    Run it as ``queryAll`` so deleted records come back with ``IsDeleted = true``.
    """
    conditions = []
    window = window_condition(mapping.source.change_field, start, end)
    if window:
        conditions.append(window)
    if mapping.source.filter:
        conditions.append(f"({mapping.source.filter.strip()})")
    query = f"SELECT {', '.join(mapping.source_fields())} FROM {mapping.source.object}"
    if conditions:
        query += " WHERE " + " AND ".join(conditions)
    return query


def build_owner_query(mapping: SyncMapping) -> str | None:
    """The query listing the emails owned by the object this sync defers to (None if it defers to none).

    Its results feed ``transform_chunk(..., owned_identifiers=...)`` so a Lead whose email belongs
    to a Contact is skipped by the rule ``email_owned_by_contact``.
    """
    if not (mapping.precedence and mapping.precedence.defer_to):
        return None
    defer = mapping.precedence.defer_to
    return f"SELECT {defer.match_on} FROM {defer.object} WHERE {defer.match_on} != null"
