import json
from pathlib import Path

import pytest
from openapi_schema_validator import OAS30Validator

from sfdd.transform.payload import import_body, to_v3_contacts
from sfdd.transform.pipeline import transform_chunk

from .conftest import chunk, make_mapping

# The repository sits beside ../shared/ (as in CI), which holds Dotdigital's published documents.
SPEC = Path(__file__).resolve().parents[4] / "shared" / "api-specs" / "dotdigital" / "dotdigital-contacts-service.json"


@pytest.fixture(scope="module")
def import_validator():
    assert SPEC.exists(), f"{SPEC} is missing: clone the repository beside ../shared"
    spec = json.loads(SPEC.read_text())
    schema = {**spec["components"]["schemas"]["v3_import_body"], "components": spec["components"]}
    return OAS30Validator(schema)


def _mapping():
    return make_mapping(
        fields=[
            {"source": "FirstName", "target": "FIRSTNAME"},
            {"source": "Loyalty_Points__c", "target": "POINTS", "type": "numeric"},
            {"source": "Birthdate", "target": "BIRTHDAY", "type": "date"},
            {"source": "Email_Consent_Date__c", "target": "CONSENT_AT", "type": "datetime"},
        ],
        segments={
            "multiselects": [{"source": "Interests__c", "mode": "booleans", "values": {"Yoga": "INT_YOGA"}}]
        },
        consent={
            "email": {
                "opt_out_field": "HasOptedOutOfEmail",
                "opt_in_field": "Email_Opt_In__c",
                "opt_in_type": "VerifiedDouble",
            },
            "sms": {"opt_out_field": "SMS_Opt_Out__c"},
        },
    )


def test_contacts_follow_the_v3_import_schema(import_validator):
    m = _mapping()
    rows = [
        {
            "Email": "a@example.com",
            "MobilePhone": "07700 900123",
            "FirstName": "=Ann",
            "Loyalty_Points__c": "10",
            "Birthdate": "1990-02-03",
            "Email_Consent_Date__c": "2025-06-01T10:11:12.000+0000",
            "Interests__c": "Yoga",
            "Email_Opt_In__c": "true",
            "SMS_Opt_Out__c": "true",
        },
        {
            "Email": "",
            "MobilePhone": "+1 415 555 0100",
            "Loyalty_Points__c": "2.5",
            "HasOptedOutOfEmail": "true",
        },
        {"Email": "c@example.com", "HasOptedOutOfEmail": "false"},
    ]
    valid = transform_chunk(chunk(m, rows), m).valid
    contacts = to_v3_contacts(valid, m, [11, 12])
    assert contacts[0] == {
        "matchIdentifier": "email",
        "identifiers": {"email": "a@example.com", "mobileNumber": "447700900123"},
        "dataFields": {
            "FIRSTNAME": "=Ann",
            "POINTS": 10,
            "BIRTHDAY": "1990-02-03",
            "CONSENT_AT": "2025-06-01T10:11:12Z",
            "INT_YOGA": True,
        },
        "channelProperties": {
            "email": {"status": "subscribed", "optInType": "verifiedDouble"},
            "sms": {"status": "unsubscribed"},
        },
        "lists": [11, 12],
    }
    # SMS-only contact: matched on its mobile, no email channel said anything
    assert contacts[1]["matchIdentifier"] == "mobileNumber"
    assert contacts[1]["identifiers"] == {"mobileNumber": "14155550100"}
    assert "channelProperties" not in contacts[1]
    assert contacts[1]["dataFields"]["POINTS"] == 2.5
    # no opt-out and no opt-in: status left to Dotdigital; empty values clear the field (None)
    assert "channelProperties" not in contacts[2]
    assert contacts[2]["dataFields"]["FIRSTNAME"] is None and contacts[2]["dataFields"]["INT_YOGA"] is False

    body = import_body(contacts, m)
    assert body["mergeOption"] == "overwrite"
    json.dumps(body)  # plain JSON types only
    import_validator.validate(body)


def test_payload_never_resubscribes():
    m = _mapping()
    rows = [{"Email": f"u{i}@example.com", "Email_Opt_In__c": "true"} for i in range(3)]
    body = json.dumps(to_v3_contacts(transform_chunk(chunk(m, rows), m).valid, m, [1]))
    assert "resubscribe" not in body.lower()


def test_no_lists_key_without_list_ids():
    m = _mapping()
    contacts = to_v3_contacts(transform_chunk(chunk(m, [{"Email": "a@example.com"}]), m).valid, m, [])
    assert "lists" not in contacts[0]


def test_too_many_lists():
    m = _mapping()
    with pytest.raises(ValueError, match="at most 100 lists"):
        to_v3_contacts(transform_chunk(chunk(m, []), m).valid, m, list(range(101)))
