from datetime import UTC, datetime, timedelta, timezone

import pytest

from sfdd.mapping.loader import parse_mapping
from sfdd.mapping.soql import build_owner_query, build_query, soql_datetime

from .conftest import minimal


def test_window_is_half_open_in_utc():
    m = parse_mapping(minimal())
    q = build_query(m, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 1, tzinfo=UTC))
    assert q == (
        "SELECT Id, SystemModstamp, IsDeleted, Email, FirstName FROM Contact "
        "WHERE SystemModstamp >= 2026-01-01T00:00:00Z AND SystemModstamp < 2026-01-01T01:00:00Z"
    )


def test_offsets_are_converted_and_fractions_dropped():
    cet = timezone(timedelta(hours=1))
    assert soql_datetime(datetime(2026, 1, 1, 1, 0, 0, 999_999, tzinfo=cet)) == "2026-01-01T00:00:00Z"
    assert soql_datetime(datetime(2026, 3, 4, 5, 6, 7)) == "2026-03-04T05:06:07Z"  # naive = UTC


def test_filter_is_anded_in_parentheses_and_open_bounds():
    data = minimal()
    data["source"] = {
        "object": "Lead",
        "filter": "Status = 'Open' OR Rating = 'Hot'",
        "change_field": "LastModifiedDate",
    }
    m = parse_mapping(data)
    assert build_query(m, None, datetime(2026, 1, 2, tzinfo=UTC)).endswith(
        "FROM Lead WHERE LastModifiedDate < 2026-01-02T00:00:00Z AND (Status = 'Open' OR Rating = 'Hot')"
    )
    assert build_query(m, None, None).endswith("FROM Lead WHERE (Status = 'Open' OR Rating = 'Hot')")
    assert build_query(parse_mapping(minimal()), None, None).endswith("FROM Contact")


def test_empty_window_is_an_error():
    m = parse_mapping(minimal())
    t = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="empty window"):
        build_query(m, t, t)


def test_parent_fields_are_selected():
    data = minimal()
    data["fields"].append({"source": "Account.Name", "target": "COMPANY"})
    assert "Account.Name FROM Contact" in build_query(parse_mapping(data), None, None)


def test_owner_query_for_precedence():
    data = minimal()
    data["source"] = {"object": "Lead"}
    assert build_owner_query(parse_mapping(data)) is None
    data["precedence"] = {"defer_to": {"object": "Contact", "match_on": "Email"}}
    assert build_owner_query(parse_mapping(data)) == "SELECT Email FROM Contact WHERE Email != null"
