"""One generated org per test session for the read-mostly tests; tests that change the clock, faults
or quota start their own emulator so they cannot disturb the others."""

from __future__ import annotations

import pytest

from sandbox.salesforce.harness import simple_salesforce_client, start_emulator


@pytest.fixture(scope="session")
def sf_emulator(tmp_path_factory):
    emulator = start_emulator(tmp_path_factory.mktemp("sf-org"), "--generate", "400", "--seed", "7")
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def sf(sf_emulator):
    """simple_salesforce.Salesforce against the emulator, exactly as a script would use it."""
    return simple_salesforce_client(sf_emulator)
