"""Each emulator publishes its connections into the state folder's connections.json, merged with the other's."""

from __future__ import annotations

import json

from sandbox.process import ready_file, write_ready


def test_connections_of_both_emulators_are_merged_into_one_file(tmp_path):
    write_ready(tmp_path, "salesforce", {"base_url": "https://127.0.0.1:1", "connections": {"salesforce_default": {
        "conn_type": "salesforce"}}})
    write_ready(tmp_path, "dotdigital", {"base_url": "http://127.0.0.1:2", "connections": {"dotdigital_default": {
        "conn_type": "http"}}})
    merged = json.loads((tmp_path / "connections.json").read_text())
    assert set(merged) == {"salesforce_default", "dotdigital_default"}
    assert json.loads(ready_file(tmp_path, "dotdigital").read_text())["base_url"] == "http://127.0.0.1:2"


def test_a_restart_replaces_its_own_connection(tmp_path):
    for port in (1, 2):
        write_ready(tmp_path, "salesforce", {"connections": {"salesforce_default": {"port": port}}})
    assert json.loads((tmp_path / "connections.json").read_text()) == {"salesforce_default": {"port": 2}}
