"""Describe, single-record CRUD/upsert, validation errors, getUpdated/getDeleted, history, collections,
limits: through simple_salesforce against an org of its own (these tests write)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from sandbox.salesforce.harness import admin, simple_salesforce_client, start_emulator


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    emulator = start_emulator(tmp_path_factory.mktemp("sf-writes"), "--generate", "60", "--seed", "3")
    yield emulator, simple_salesforce_client(emulator)
    emulator.stop()


@pytest.fixture
def sf(org):
    return org[1]


def _field(describe: dict, name: str) -> dict:
    return next(f for f in describe["fields"] if f["name"] == name)


def test_describe_reports_types_lengths_picklists_and_external_ids(sf):
    contact = sf.Contact.describe()
    assert contact["keyPrefix"] == "003" and contact["name"] == "Contact"
    types = {f["name"]: f["type"] for f in contact["fields"]}
    assert types["Id"] == "id" and types["Email"] == "email" and types["MobilePhone"] == "phone"
    assert types["HasOptedOutOfEmail"] == "boolean" and types["Birthdate"] == "date"
    assert types["Email_Consent_Date__c"] == "datetime" and types["Loyalty_Points__c"] == "double"
    assert types["AccountId"] == "reference" and types["Description"] == "textarea"
    assert _field(contact, "Email")["length"] == 80
    assert [p["value"] for p in _field(contact, "Interests__c")["picklistValues"]] == \
        ["Running", "Cycling", "Swimming", "Yoga", "Hiking"]
    assert _field(contact, "AccountId")["relationshipName"] == "Account"
    membership = sf.Membership__c.describe()
    assert membership["keyPrefix"] == "a01" and membership["custom"] is True
    number = _field(membership, "Member_Number__c")
    assert number["externalId"] is True and number["unique"] is True and number["length"] == 20
    tier = _field(membership, "Tier__c")
    assert tier["restrictedPicklist"] is True
    assert [p["value"] for p in tier["picklistValues"]] == ["Bronze", "Silver", "Gold", "Platinum"]
    lead = sf.Lead.describe()
    assert lead["keyPrefix"] == "00Q"
    assert {"IsConverted", "ConvertedContactId", "Status", "Rating", "Industry"} <= {f["name"] for f in lead["fields"]}
    for name, prefix in (("Opportunity", "006"), ("Task", "00T"), ("Account", "001"), ("Campaign", "701"),
                         ("CampaignMember", "00v")):
        assert getattr(sf, name).describe()["keyPrefix"] == prefix
    assert _field(sf.Opportunity.describe(), "Amount")["type"] == "currency"


def test_describe_unknown_object_is_404(sf):
    with pytest.raises(SalesforceResourceNotFound):
        sf.Nothing__c.describe()


def test_create_read_update_delete_maintains_audit_fields(org, sf):
    emulator, _ = org
    created = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com",
                                 "Interests__c": "Yoga;Running"})
    assert created["success"] is True and created["id"].startswith("003")
    record = sf.Contact.get(created["id"])
    assert record["Name"] == "Ada Lovelace" and record["IsDeleted"] is False
    assert record["CreatedDate"] == record["SystemModstamp"] == record["LastModifiedDate"]
    admin(emulator, "POST", "clock", {"advance_seconds": 90})
    assert sf.Contact.update(created["id"], {"Title": "Analyst"}) == 204
    updated = sf.Contact.get(created["id"])
    assert updated["Title"] == "Analyst"
    assert updated["SystemModstamp"] > record["SystemModstamp"] and updated["CreatedDate"] == record["CreatedDate"]
    assert sf.Contact.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(created["id"])


def test_upsert_by_external_id_creates_then_updates(sf):
    body = {"Name": "Grace Hopper", "Email__c": "grace@example.com", "Tier__c": "Gold"}
    assert sf.Membership__c.upsert("Member_Number__c/EXT-0001", body) == 201
    assert sf.Membership__c.upsert("Member_Number__c/EXT-0001", {"Tier__c": "Platinum"}) == 200
    record = sf.Membership__c.get_by_custom_id("Member_Number__c", "EXT-0001")
    assert record["Tier__c"] == "Platinum" and record["Email__c"] == "grace@example.com"


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"LastName": "x" * 81}, "STRING_TOO_LONG", "LastName"),
    ({"FirstName": "NoLastName"}, "REQUIRED_FIELD_MISSING", "LastName"),
    ({"LastName": "X", "Colour__c": "red"}, "INVALID_FIELD", "Colour__c"),
    ({"LastName": "X", "Email": "not-an-email"}, "INVALID_EMAIL_ADDRESS", "Email"),
    ({"LastName": "X", "Birthdate": "yesterday"}, "INVALID_TYPE_ON_FIELD_IN_RECORD", "Birthdate"),
    ({"LastName": "X", "Name": "Computed"}, "INVALID_FIELD_FOR_INSERT_UPDATE", "Name"),
])
def test_validation_errors_use_salesforce_codes(sf, body, code, field):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create(body)
    assert err.value.content[0]["errorCode"] == code
    assert field in err.value.content[0]["fields"]


def test_restricted_picklist_and_duplicate_external_id(sf):
    with pytest.raises(SalesforceMalformedRequest) as bad_tier:
        sf.Membership__c.create({"Name": "X", "Tier__c": "Diamond"})
    assert bad_tier.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    sf.Membership__c.create({"Name": "A", "Member_Number__c": "DUP-1"})
    with pytest.raises(SalesforceMalformedRequest) as dup:
        sf.Membership__c.create({"Name": "B", "Member_Number__c": "DUP-1"})
    assert dup.value.content[0]["errorCode"] == "DUPLICATE_VALUE"
    same_request = sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": "Membership__c"}, "Name": "C", "Member_Number__c": "DUP-2"},
        {"attributes": {"type": "Membership__c"}, "Name": "D", "Member_Number__c": "DUP-2"}]})
    assert same_request[0]["success"] is True
    assert same_request[1]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"


def test_updated_and_deleted_windows(org, sf):
    emulator, _ = org
    admin(emulator, "POST", "clock", {"advance_seconds": 3600})
    start = datetime.fromisoformat(admin(emulator, "GET", "clock")["now"]) - timedelta(minutes=1)
    changed = sf.Lead.create({"LastName": "Window", "Company": "Acme"})["id"]
    gone = sf.Lead.create({"LastName": "Gone", "Company": "Acme"})["id"]
    sf.Lead.delete(gone)
    admin(emulator, "POST", "clock", {"advance_seconds": 180})
    end = datetime.fromisoformat(admin(emulator, "GET", "clock")["now"])
    updated = sf.Lead.updated(start.astimezone(UTC), end.astimezone(UTC))
    assert changed in updated["ids"] and gone not in updated["ids"]
    assert updated["latestDateCovered"].endswith("+0000")
    deleted = sf.Lead.deleted(start.astimezone(UTC), end.astimezone(UTC))
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]
    assert {"earliestDateAvailable", "latestDateCovered"} <= set(deleted)


def test_history_rows_for_tracked_fields(sf):
    lead = sf.Lead.create({"LastName": "Tracked", "Company": "Acme"})["id"]
    sf.Lead.update(lead, {"Status": "Working - Contacted"})
    rows = sf.query(f"SELECT Field, OldValue, NewValue FROM LeadHistory WHERE LeadId = '{lead}' "
                    "ORDER BY CreatedDate")["records"]
    assert [(r["Field"], r["OldValue"], r["NewValue"]) for r in rows] == [
        ("created", None, None), ("Status", "Open - Not Contacted", "Working - Contacted")]
    opp = sf.Opportunity.create({"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2030-01-01"})["id"]
    sf.Opportunity.update(opp, {"StageName": "Closed Won"})
    history = sf.query(f"SELECT Field, NewValue FROM OpportunityFieldHistory WHERE OpportunityId = '{opp}' "
                       "AND Field = 'StageName'")["records"]
    assert [h["NewValue"] for h in history] == ["Closed Won"]
    generated = sf.query("SELECT COUNT() FROM LeadHistory WHERE Field = 'Status'")["totalSize"]
    assert generated > 1


def test_collections_create_with_partial_failures(sf):
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Contact"}, "LastName": "Good"},
        {"attributes": {"type": "Contact"}, "FirstName": "Bad"},
        {"attributes": {"type": "Lead"}, "LastName": "Lead", "Company": "Acme"},
    ]})
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert results[1]["errors"][0]["fields"] == ["LastName"]
    assert "id" not in results[1] and results[2]["id"].startswith("00Q")


def test_collections_refuse_more_than_200_records(sf):
    records = [{"attributes": {"type": "Lead"}, "LastName": f"L{i}", "Company": "Acme"} for i in range(201)]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert err.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_collections_all_or_none_rolls_back(sf):
    results = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Contact"}, "LastName": "RolledBack", "Email": "rolled.back@example.com"},
        {"attributes": {"type": "Contact"}, "LastName": "y" * 100},
    ]})
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert sf.query("SELECT COUNT() FROM Contact WHERE Email = 'rolled.back@example.com'")["totalSize"] == 0


def test_collections_upsert_update_and_delete(sf):
    upserted = sf.restful("composite/sobjects/Membership__c/Member_Number__c", method="PATCH", json={
        "allOrNone": False, "records": [
            {"attributes": {"type": "Membership__c"}, "Member_Number__c": "C-1", "Tier__c": "Gold"},
            {"attributes": {"type": "Membership__c"}, "Member_Number__c": "C-2", "Tier__c": "Wood"},
        ]})
    assert upserted[0] == {"id": upserted[0]["id"], "success": True, "errors": [], "created": True}
    assert upserted[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    again = sf.restful("composite/sobjects/Membership__c/Member_Number__c", method="PATCH", json={
        "records": [{"attributes": {"type": "Membership__c"}, "Member_Number__c": "C-1", "Tier__c": "Silver"}]})
    assert again[0]["created"] is False and again[0]["id"] == upserted[0]["id"]
    updated = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Membership__c"}, "id": upserted[0]["id"], "Points__c": 5},
        {"attributes": {"type": "Membership__c"}, "id": "a014x00000000ZZZZZ", "Points__c": 5}]})
    assert updated[0]["success"] is True and updated[1]["success"] is False
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": upserted[0]["id"]})
    assert deleted == [{"id": upserted[0]["id"], "success": True, "errors": []}]


def test_limits_and_limit_info_header(sf):
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 100_000
    assert 0 < 100_000 - limits["DailyApiRequests"]["Remaining"]
    assert sf.api_usage["api-usage"].total == 100_000
    assert sf.api_usage["api-usage"].used >= 100_000 - limits["DailyApiRequests"]["Remaining"]
