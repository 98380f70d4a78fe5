"""REST query / queryAll through simple_salesforce: paging, SOQL subset, errors, formats."""

from __future__ import annotations

import re

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def test_query_pages_with_next_records_url_and_batch_size(sf):
    first = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"})
    assert first["totalSize"] == 400
    assert first["done"] is False
    assert len(first["records"]) == 200
    assert re.fullmatch(r"/services/data/v62\.0/query/01g\w+-200", first["nextRecordsUrl"])
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert second["done"] is True and len(second["records"]) == 200
    assert {r["Id"] for r in first["records"]}.isdisjoint(r["Id"] for r in second["records"])


def test_query_all_collects_every_page(sf):
    result = sf.query_all("SELECT Id, Email FROM Contact", headers={"Sforce-Query-Options": "batchSize=250"})
    ids = [r["Id"] for r in result["records"]]
    assert len(ids) == len(set(ids)) == 400


def test_default_batch_is_2000_and_records_carry_attributes(sf):
    result = sf.query("SELECT Id, Name FROM Contact")
    assert result["done"] is True and len(result["records"]) == 400
    record = result["records"][0]
    assert record["attributes"]["type"] == "Contact"
    assert record["attributes"]["url"] == f"/services/data/v62.0/sobjects/Contact/{record['Id']}"
    assert len(record["Id"]) == 18 and record["Id"].startswith("003")


def test_field_types_and_formats(sf):
    record = sf.query("SELECT Id, HasOptedOutOfEmail, Loyalty_Points__c, CreatedDate, Birthdate, Interests__c "
                      "FROM Contact WHERE Birthdate != null LIMIT 1")["records"][0]
    assert isinstance(record["HasOptedOutOfEmail"], bool)
    assert isinstance(record["Loyalty_Points__c"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", record["CreatedDate"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", record["Birthdate"])


def test_parent_fields_nested_like_salesforce(sf):
    record = sf.query("SELECT Id, Account.Name, AccountId FROM Contact WHERE AccountId != null LIMIT 1")["records"][0]
    assert record["Account"]["attributes"]["type"] == "Account"
    assert isinstance(record["Account"]["Name"], str) and record["Account"]["Name"]
    account = sf.query(f"SELECT Name FROM Account WHERE Id = '{record['AccountId']}'")["records"][0]
    assert account["Name"] == record["Account"]["Name"]


def test_where_operators(sf):
    everyone = sf.query_all("SELECT Id, LeadSource, HasOptedOutOfEmail, Email FROM Contact")["records"]
    web = sf.query_all("SELECT Id FROM Contact WHERE LeadSource = 'Web'")["records"]
    assert len(web) == sum(1 for r in everyone if r["LeadSource"] == "Web") > 0
    in_list = sf.query_all("SELECT Id FROM Contact WHERE LeadSource IN ('Web', 'Other')")["records"]
    assert len(in_list) == sum(1 for r in everyone if r["LeadSource"] in ("Web", "Other"))
    not_in = sf.query_all("SELECT Id FROM Contact WHERE LeadSource NOT IN ('Web', 'Other')")["records"]
    assert len(not_in) + len(in_list) == 400
    nulls = sf.query_all("SELECT Id FROM Contact WHERE LeadSource = null")["records"]
    assert len(nulls) == sum(1 for r in everyone if r["LeadSource"] is None)
    combo = sf.query_all("SELECT Id FROM Contact WHERE (LeadSource = 'Web' OR LeadSource = 'Other') "
                         "AND NOT HasOptedOutOfEmail = true")["records"]
    assert len(combo) == sum(1 for r in everyone if r["LeadSource"] in ("Web", "Other")
                             and not r["HasOptedOutOfEmail"])
    like = sf.query_all("SELECT Id FROM Contact WHERE Email LIKE '%@EXAMPLE.ORG'")["records"]
    assert len(like) == sum(1 for r in everyone if (r["Email"] or "").lower().endswith("@example.org")) > 0


def test_datetime_and_date_literals(sf):
    newest = sf.query("SELECT SystemModstamp FROM Contact ORDER BY SystemModstamp DESC LIMIT 1")["records"][0]
    stamp = newest["SystemModstamp"]
    literal = stamp[:19] + "Z"
    after = sf.query(f"SELECT COUNT() FROM Contact WHERE SystemModstamp >= {literal}")
    assert after["totalSize"] >= 1 and after["records"] == []
    offset_literal = stamp[:19] + "+00:00"
    assert sf.query(f"SELECT COUNT() FROM Contact WHERE SystemModstamp >= {offset_literal}")["totalSize"] == \
        after["totalSize"]
    old = sf.query("SELECT COUNT() FROM Contact WHERE Birthdate < 1970-01-01")["totalSize"]
    recent = sf.query("SELECT COUNT() FROM Contact WHERE CreatedDate = LAST_N_DAYS:3650")["totalSize"]
    assert 0 < old < 400 and recent == 400


def test_multipicklist_includes(sf):
    rows = sf.query_all("SELECT Interests__c FROM Contact WHERE Interests__c INCLUDES ('Yoga')")["records"]
    assert rows and all("Yoga" in r["Interests__c"].split(";") for r in rows)


def test_order_by_and_limit(sf):
    rows = sf.query("SELECT LastName FROM Contact ORDER BY LastName ASC NULLS LAST LIMIT 25")["records"]
    names = [r["LastName"].lower() for r in rows]
    assert len(rows) == 25 and names == sorted(names)
    paged = sf.query_all("SELECT Id FROM Contact ORDER BY LastName DESC LIMIT 450",
                         headers={"Sforce-Query-Options": "batchSize=200"})
    assert paged["totalSize"] == 400


def test_malformed_query_and_unknown_field_are_json_errors(sf):
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.query("SELEC Id FROM Contact")
    assert bad.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as unknown:
        sf.query("SELECT Id, Nope__c FROM Contact")
    assert unknown.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "Nope__c" in unknown.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as quoted_date:
        sf.query("SELECT Id FROM Contact WHERE CreatedDate > '2024-01-01'")
    assert quoted_date.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as bad_type:
        sf.query("SELECT Id FROM Nothing__c")
    assert bad_type.value.content[0]["errorCode"] == "INVALID_TYPE"


def test_query_all_includes_deleted_rows(sf):
    created = sf.Contact.create({"LastName": "ToBeDeleted", "Email": "deleted.one@example.com"})
    sf.Contact.delete(created["id"])
    soql = "SELECT Id, IsDeleted FROM Contact WHERE Email = 'deleted.one@example.com'"
    assert sf.query(soql)["totalSize"] == 0
    rows = sf.query_all(soql, include_deleted=True)["records"]
    assert [(r["Id"], r["IsDeleted"]) for r in rows] == [(created["id"], True)]
