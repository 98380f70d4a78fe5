from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "include" / "mappings"


def minimal() -> dict:
    """The smallest valid mapping, as parsed YAML; tests copy and change it."""
    return {
        "name": "contact_test",
        "source": {"object": "Contact"},
        "target": {"address_books": ["Test Contacts"]},
        "fields": [{"source": "FirstName", "target": "FIRSTNAME"}],
    }


@pytest.fixture
def shipped_dir() -> Path:
    return SHIPPED
