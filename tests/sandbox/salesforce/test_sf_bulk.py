"""Bulk API 2.0 query and ingest through simple_salesforce's bulk2 client."""

from __future__ import annotations

import csv
import io

import pytest
from simple_salesforce.exceptions import SalesforceResourceNotFound

from sandbox.salesforce.harness import simple_salesforce_client, start_emulator


@pytest.fixture(scope="module")
def sf(tmp_path_factory):
    emulator = start_emulator(tmp_path_factory.mktemp("sf-bulk"), "--generate", "500", "--seed", "11")
    yield simple_salesforce_client(emulator)
    emulator.stop()


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_query_download_is_multi_page_with_header_on_every_page(sf, tmp_path):
    pages = sf.bulk2.Contact.download("SELECT Id, FirstName, Email, Account.Name, HasOptedOutOfEmail, "
                                      "CreatedDate FROM Contact", path=str(tmp_path), max_records=120, wait=0.05)
    assert [p["number_of_records"] for p in pages] == [120, 120, 120, 120, 20]
    ids = []
    for page in pages:
        with open(page["file"], newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            assert reader.fieldnames == ["Id", "FirstName", "Email", "Account.Name", "HasOptedOutOfEmail",
                                         "CreatedDate"]
            rows = list(reader)
        assert len(rows) == page["number_of_records"]
        assert {r["HasOptedOutOfEmail"] for r in rows} <= {"true", "false"}
        assert all(r["CreatedDate"].endswith(".000Z") or r["CreatedDate"][-5] == "." for r in rows)
        ids += [r["Id"] for r in rows]
    assert len(ids) == len(set(ids)) == 500


def test_query_generator_and_csv_hostile_values_round_trip(sf):
    pages = list(sf.bulk2.Contact.query("SELECT Id, Title FROM Contact", max_records=1000, wait=0.05))
    assert len(pages) == 1
    titles = {r["Title"] for r in _rows(pages[0])}
    rest_titles = {r["Title"] for r in sf.query_all("SELECT Title FROM Contact")["records"]}
    assert titles == {t or "" for t in rest_titles}
    assert any("\n" in t for t in titles) and any(t.startswith("=") for t in titles)


def test_query_all_job_returns_deleted_rows(sf):
    victim = sf.Contact.create({"LastName": "BulkDeleted", "Email": "bulk.deleted@example.com"})["id"]
    sf.Contact.delete(victim)
    soql = "SELECT Id, IsDeleted FROM Contact WHERE Email = 'bulk.deleted@example.com'"
    assert _rows("".join(sf.bulk2.Contact.query(soql, wait=0.05))) == []
    assert _rows("".join(sf.bulk2.Contact.query_all(soql, wait=0.05))) == [{"Id": victim, "IsDeleted": "true"}]


def test_query_job_lifecycle_and_headers(sf):
    base = sf.bulk2_url
    job = sf.session.post(base + "query", headers=sf.headers, json={
        "operation": "query", "query": "SELECT Id FROM Lead", "columnDelimiter": "PIPE", "lineEnding": "CRLF"}).json()
    assert job["state"] == "UploadComplete" and job["columnDelimiter"] == "PIPE"
    sf.bulk2.Lead._client.wait_for_job(job["id"], True, 0.05)
    info = sf.session.get(base + f"query/{job['id']}", headers=sf.headers).json()
    assert info["state"] == "JobComplete" and info["jobType"] == "V2Query"
    first = sf.session.get(base + f"query/{job['id']}/results", params={"maxRecords": 100}, headers=sf.headers)
    assert first.headers["Sforce-NumberOfRecords"] == "100" and first.headers["Sforce-Locator"] != "null"
    assert first.text.startswith('"Id"\r\n')
    other_version = sf.session.get(base.replace("/v62.0/", "/v61.0/") + f"query/{job['id']}/results",
                                   headers=sf.headers)
    assert other_version.status_code == 409
    again = sf.session.get(base + f"query/{job['id']}/results", headers=sf.headers,
                           params={"maxRecords": 100, "locator": first.headers["Sforce-Locator"]})
    assert again.text.startswith('"Id"\r\n') and again.text != first.text
    rest = sf.session.get(base + f"query/{job['id']}/results", headers=sf.headers,
                          params={"locator": first.headers["Sforce-Locator"]})
    assert rest.headers["Sforce-Locator"] == "null" and int(rest.headers["Sforce-NumberOfRecords"]) == 25
    assert sf.session.delete(base + f"query/{job['id']}", headers=sf.headers).status_code == 204
    missing = sf.session.get(base + f"query/{job['id']}", headers=sf.headers)
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"


def test_upsert_reports_failed_rows(sf, tmp_path):
    data = tmp_path / "members.csv"
    data.write_text("Member_Number__c,Name,Tier__c,Email__c\n"
                    "B-1,Ann,Gold,ann@example.com\n"
                    "B-2,Bob,Diamond,bob@example.com\n"
                    "B-3,\"Cat, \"\"the\"\" Third\",Silver,cat@example.com\n"
                    "B-4,Dan,Bronze,not-an-email\n")
    [job] = sf.bulk2.Membership__c.upsert(csv_file=str(data), external_id_field="Member_Number__c", wait=0.05)
    assert int(job["numberRecordsProcessed"]) == 4 and int(job["numberRecordsFailed"]) == 2
    results = sf.bulk2.Membership__c.get_all_ingest_records(job["job_id"])
    ok = {r["Member_Number__c"]: r for r in results["successfulRecords"]}
    bad = {r["Member_Number__c"]: r for r in results["failedRecords"]}
    assert set(ok) == {"B-1", "B-3"} and ok["B-1"]["sf__Created"] == "true"
    assert ok["B-3"]["Name"] == 'Cat, "the" Third'
    assert bad["B-2"]["sf__Error"].startswith("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:")
    assert bad["B-4"]["sf__Error"].startswith("INVALID_EMAIL_ADDRESS:")
    assert results["unprocessedRecords"] == []
    [second] = sf.bulk2.Membership__c.upsert(records=[{"Member_Number__c": "B-1", "Tier__c": "Platinum"}],
                                              external_id_field="Member_Number__c", wait=0.05)
    created_flags = [r["sf__Created"] for r in
                     _rows(sf.bulk2.Membership__c.get_successful_records(second["job_id"]))]
    assert created_flags == ["false"]
    assert sf.Membership__c.get_by_custom_id("Member_Number__c", "B-1")["Tier__c"] == "Platinum"


def test_insert_update_delete_and_na_semantics(sf):
    [ins] = sf.bulk2.Lead.insert(records=[{"LastName": "Bulk", "Company": "Acme", "Title": "Keep me"}], wait=0.05)
    lead_id = _rows(sf.bulk2.Lead.get_successful_records(ins["job_id"]))[0]["sf__Id"]
    sf.bulk2.Lead.update(records=[{"Id": lead_id, "Title": "", "Rating": "Hot"}], wait=0.05)
    assert sf.Lead.get(lead_id)["Title"] == "Keep me"
    sf.bulk2.Lead.update(records=[{"Id": lead_id, "Title": "#N/A"}], wait=0.05)
    assert sf.Lead.get(lead_id)["Title"] is None and sf.Lead.get(lead_id)["Rating"] == "Hot"
    [deleted] = sf.bulk2.Lead.delete(records=[{"Id": lead_id}], wait=0.05)
    assert int(deleted["numberRecordsFailed"]) == 0
    with pytest.raises(SalesforceResourceNotFound):
        sf.Lead.get(lead_id)


def test_unprocessed_records_both_spellings_and_upload_status(sf):
    base = sf.bulk2_url
    job = sf.session.post(base + "ingest", headers=sf.headers,
                          json={"object": "Lead", "operation": "insert", "contentType": "CSV"}).json()
    assert job["state"] == "Open" and job["contentUrl"].endswith(f"/jobs/ingest/{job['id']}/batches")
    upload = sf.session.put(base + f"ingest/{job['id']}/batches", data="LastName,Company\nX,Y\n",
                            headers={**sf.headers, "Content-Type": "text/csv"})
    assert upload.status_code == 201
    aborted = sf.session.patch(base + f"ingest/{job['id']}", headers=sf.headers, json={"state": "Aborted"})
    assert aborted.json()["state"] == "Aborted"
    for spelling in ("unprocessedrecords", "unprocessedRecords"):
        response = sf.session.get(base + f"ingest/{job['id']}/{spelling}", headers=sf.headers)
        assert response.status_code == 200 and _rows(response.text) == [{"LastName": "X", "Company": "Y"}]


def test_ingest_with_unknown_column_fails_the_job(sf):
    from simple_salesforce.exceptions import SalesforceOperationError

    with pytest.raises(SalesforceOperationError, match="Field name not found"):
        sf.bulk2.Lead.insert(records=[{"LastName": "X", "Company": "Y", "Shoe_Size__c": "9"}], wait=0.05)
