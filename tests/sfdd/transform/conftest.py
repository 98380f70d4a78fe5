from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sfdd.mapping.loader import load_mappings, parse_mapping

SHIPPED = Path(__file__).resolve().parents[3] / "include" / "mappings"


@pytest.fixture(scope="session")
def shipped():
    return load_mappings(SHIPPED)


def make_mapping(**overrides):
    data = {
        "name": "contact_test",
        "source": {"object": "Contact"},
        "target": {
            "address_books": ["Test Contacts"],
            "mobile_field": "MobilePhone",
            "fallback_identifier": "mobile_number",
        },
        "phone_country_code": "44",
        "fields": [{"source": "FirstName", "target": "FIRSTNAME"}],
    }
    data.update(overrides)
    return parse_mapping(data)


def chunk(mapping, rows: list[dict]) -> pd.DataFrame:
    """A chunk as extract writes it: every source field a text column, "" for no value."""
    out = []
    for i, r in enumerate(rows):
        base = {f: "" for f in mapping.source_fields()}
        base.update(
            {"Id": f"003{i:015d}", "SystemModstamp": "2026-01-01T00:00:00.000+0000", "IsDeleted": "false"}
        )
        base.update(r)
        out.append(base)
    return pd.DataFrame(out, columns=mapping.source_fields(), dtype="str")
