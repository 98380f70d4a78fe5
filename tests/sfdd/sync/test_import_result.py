"""A finished v3 import becomes figures and reject rows that point back at the Salesforce record."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sfdd.sync.contact_sync import _count_import_result


def _valid():
    return pd.DataFrame({
        "sf_id": ["003A", "003B", "003C", "003D", "003E"],
        "row": [10, 11, 12, 13, 14],
        "email": ["a@example.com", " B@Example.com", None, "d@example.com", None],
        "mobile_number": ["+447700900001", None, "+447700900003", "+447700900004", "+447700900005"],
    })


def _failure(identifiers, code, contact_id=None):
    entry = {"matchIdentifier": "email", "identifiers": identifiers,
             "failures": [{"failureCode": code, "description": f"{code} happened"}]}
    if contact_id is not None:
        entry["contactId"] = contact_id
    return entry


def test_failures_map_to_their_records_and_written_notes_are_not_rejects():
    status = {
        "created": [{"contactId": 1, "identifiers": {"email": "a@example.com"}},
                    {"contactId": 4, "identifiers": {"email": "d@example.com"}}],
        "updated": [{"contactId": 5, "identifiers": {"mobileNumber": "447700900005"}}],
        "failures": [
            _failure({"email": "b@example.com"}, "invalidEmail"),            # matched in another case
            _failure({"mobileNumber": "447700900003"}, "invalidPhoneNumber"),  # a mobile-only record
            _failure({"email": "d@example.com"}, "invalidContactStatus", contact_id=4),  # written, kept
        ],
    }
    counted = _count_import_result(status, _valid(), "s3://bucket/extract-00001.parquet")
    assert counted["figures"] == {"created": 2, "updated": 1, "failed": 2, "kept_suppressed": 1,
                                  "partially_written": 0,
                                  "failed_by_code": {"DOTDIGITAL_invalidEmail": 1, "DOTDIGITAL_invalidPhoneNumber": 1}}
    by_code = {r["error_code"]: r for r in counted["rejects"]}
    assert (by_code["DOTDIGITAL_invalidEmail"]["sf_id"], by_code["DOTDIGITAL_invalidEmail"]["payload_row"]) == (
        "003B", 11)
    assert (by_code["DOTDIGITAL_invalidPhoneNumber"]["sf_id"],
            by_code["DOTDIGITAL_invalidPhoneNumber"]["payload_row"]) == ("003C", 12)
    assert all(r["payload_ref"] == "s3://bucket/extract-00001.parquet" for r in counted["rejects"])


def test_a_mobile_shared_with_an_emailed_record_maps_to_the_record_without_email():
    """003D has an email, so the payload identified it by email; a mobile-only failure is 003E's."""
    status = {"created": [], "updated": [],
              "failures": [_failure({"mobileNumber": "+447700900005"}, "duplicateIdentifier")]}
    valid = _valid()
    valid.loc[3, "mobile_number"] = "+447700900005"
    rejects = _count_import_result(status, valid, "ref")["rejects"]
    assert [(r["sf_id"], r["payload_row"]) for r in rejects] == [("003E", 14)]


def test_an_unknown_identifier_is_still_a_reject_without_a_record():
    status = {"created": [], "updated": [], "failures": [_failure({"email": "nobody@example.com"}, "x")]}
    rejects = _count_import_result(status, _valid(), "ref")["rejects"]
    assert [(r["sf_id"], r["payload_row"], r["error_code"]) for r in rejects] == [(None, None, "DOTDIGITAL_x")]


def test_a_clean_import_counts_without_failures():
    status = {"created": [{"contactId": i} for i in range(5)], "updated": [], "failures": []}
    counted = _count_import_result(status, _valid(), "ref")
    assert counted["rejects"] == [] and counted["figures"]["created"] == 5 and counted["figures"]["failed"] == 0


@pytest.mark.parametrize("setting", ["0", "two", "-1", ""])
def test_a_bad_imports_in_flight_setting_fails_with_its_name(setting):
    """The DAG file reads it for pool_slots at parse time, so a bad value must say what to fix."""
    code = "import sfdd.sync.contact_sync"
    env = {**os.environ, "SFDD_IMPORTS_IN_FLIGHT": setting}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[3] / "plugins")
    assert done.returncode != 0 and "SFDD_IMPORTS_IN_FLIGHT must be a whole number of 1 or more" in done.stderr
