"""v3 and v2 contact imports, single-contact v3 operations and the import limits."""

from __future__ import annotations

import base64
import csv
import io
import time
import uuid

from sandbox.dotdigital.launcher import admin


def wait_v3(api, import_id: str) -> dict:
    for _ in range(600):
        response = api("GET", f"/contacts/v3/import/{import_id}")
        if response.json()["status"] != "NotFinished":
            return response
        time.sleep(0.1)
    raise AssertionError("import never finished")


def wait_v2(api, import_id: str):
    for _ in range(200):
        response = api("GET", f"/v2/contacts/import/{import_id}")
        if response.json()["status"] != "NotFinished":
            return response
        time.sleep(0.1)
    raise AssertionError("import never finished")


def test_v3_import_round_trip_with_per_contact_failures(api, check):
    tag = uuid.uuid4().hex[:8]
    book = api("POST", "/v2/address-books", json={"name": f"v3 {tag}"}).json()
    contacts = [
        {"matchIdentifier": "email", "identifiers": {"email": f"ok1-{tag}@example.com",
                                                     "mobileNumber": "+447700900" + tag[:3].translate(
                                                         str.maketrans("abcdef", "123456"))},
         "dataFields": {"firstName": "Ada", "lastName": "Lovelace"}, "lists": [book["id"]],
         "channelProperties": {"email": {"status": "subscribed", "emailType": "html", "optInType": "single"},
                               "sms": {"status": "subscribed"}}},
        {"matchIdentifier": "email", "identifiers": {"email": f"ok2-{tag}@example.com"}},
        {"matchIdentifier": "email", "identifiers": {"email": "not-an-email@"}},
        {"matchIdentifier": "email", "identifiers": {"email": f"OK2-{tag}@example.com"}},
        {"matchIdentifier": "mobileNumber", "identifiers": {"mobileNumber": "12ab"}},
        {"matchIdentifier": "email", "identifiers": {"email": f"bad-type-{tag}@example.com"},
         "dataFields": {"LASTSUBSCRIBED": "yesterday"}},
        {"matchIdentifier": "email", "identifiers": {"email": f"unknown-field-{tag}@example.com"},
         "dataFields": {"NO_SUCH_FIELD": "x"}},
    ]
    started = api("PUT", "/contacts/v3/import", json={"mergeOption": "overwrite", "contacts": contacts})
    assert started.status_code == 202
    check(started)
    pending = api("GET", f"/contacts/v3/import/{started.json()['importId']}")
    check(pending)
    done = wait_v3(api, started.json()["importId"])
    check(done)
    result = done.json()
    assert result["status"] == "Finished"
    assert result["summary"]["newContacts"] == 2
    assert result["summary"]["duplicateIdentifiers"] == 1
    codes = sorted(f["failures"][0]["failureCode"] for f in result["failures"])
    assert codes == ["apiSchemaViolation", "apiSchemaViolation", "duplicateIdentifier", "invalidEmail",
                     "invalidPhoneNumber"]
    got = api("GET", f"/contacts/v3/email/ok1-{tag}@example.com")
    check(got)
    contact = got.json()
    assert contact["dataFields"]["FIRSTNAME"] == "Ada"
    assert contact["lists"] == [{"id": book["id"], "name": book["name"], "status": "subscribed"}]
    assert contact["channelProperties"]["email"]["status"] == "subscribed"
    assert contact["channelProperties"]["sms"]["status"] == "subscribed"
    by_id = api("GET", f"/contacts/v3/contactId/{contact['contactId']}")
    check(by_id)
    assert by_id.json()["identifiers"]["email"] == f"ok1-{tag}@example.com"
    missing = api("GET", "/contacts/v3/email/nobody-here@example.com")
    assert missing.status_code == 404
    check(missing)
    assert missing.json()["errorCode"] == "contacts:contactNotFound"


def test_v3_merge_options_and_null_clears(api, check):
    tag = uuid.uuid4().hex[:8]
    email = f"merge-{tag}@example.com"
    first = api("PATCH", f"/contacts/v3/email/{email}", json={"dataFields": {"FIRSTNAME": "A", "LASTNAME": "B"}})
    assert first.status_code == 201
    check(first)
    kept = api("PATCH", f"/contacts/v3/email/{email}", params={"merge-option": "overwrite-if-empty"},
               json={"dataFields": {"FIRSTNAME": "Z", "POSTCODE": "N1"}})
    assert kept.status_code == 200
    check(kept)
    assert kept.json()["dataFields"] == {"FIRSTNAME": "A", "LASTNAME": "B", "POSTCODE": "N1"}
    skipped = api("PATCH", f"/contacts/v3/email/{email}", params={"merge-option": "overwrite-if-not-empty"},
                  json={"dataFields": {"FIRSTNAME": "", "LASTNAME": "C"}})
    assert skipped.json()["dataFields"]["FIRSTNAME"] == "A" and skipped.json()["dataFields"]["LASTNAME"] == "C"
    cleared = api("PATCH", f"/contacts/v3/email/{email}", json={"dataFields": {"POSTCODE": None}})
    assert "POSTCODE" not in cleared.json()["dataFields"]
    deleted = api("DELETE", f"/contacts/v3/email/{email}")
    check(deleted)
    assert deleted.json() == {"contactId": first.json()["contactId"]}
    assert api("GET", f"/contacts/v3/email/{email}").status_code == 404


def test_v3_import_sees_its_own_earlier_writes_to_a_contact(api, check):
    """Identifiers are looked up per slice in one query; a contact written earlier in the same import
    must still be read fresh, or a second write through its other identifier would undo the first."""
    tag = uuid.uuid4().hex[:8]
    email = f"Fresh-{tag}@Example.com"
    mobile = "4477009" + str(int(tag, 16) % 10**5).zfill(5)
    seed = api("PATCH", f"/contacts/v3/email/{email}",
               json={"identifiers": {"mobileNumber": "+" + mobile}, "dataFields": {"FIRSTNAME": "Old"}})
    assert seed.status_code == 201
    contacts = [
        # matched by email in another case: SQLite's NOCASE matches it, so must the batched lookup
        {"matchIdentifier": "email", "identifiers": {"email": email.lower()},
         "dataFields": {"FIRSTNAME": "Ann", "POSTCODE": None}},
        # the same contact again, now through its mobile number: it must see FIRSTNAME=Ann
        {"matchIdentifier": "mobileNumber", "identifiers": {"mobileNumber": "+" + mobile},
         "dataFields": {"LASTNAME": "Lee", "LASTSUBSCRIBED": "2024-02-03"}},
    ]
    started = api("PUT", "/contacts/v3/import", json={"contacts": contacts})
    result = wait_v3(api, started.json()["importId"]).json()
    assert result["summary"]["newContacts"] == 0 and result["summary"]["updatedContacts"] == 2
    assert result["failures"] == []
    after = api("GET", f"/contacts/v3/email/{email}").json()
    assert after["dataFields"] == {"FIRSTNAME": "Ann", "LASTNAME": "Lee", "LASTSUBSCRIBED": "2024-02-03T00:00:00"}


def test_v3_rejects_what_the_spec_rejects(api, check):
    bad_json = api("PUT", "/contacts/v3/import", data=b"{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["errorCode"] == "contacts:badJson"
    check(bad_json)
    for body in ({"contacts": []}, {"mergeOption": "replace", "contacts": [{"matchIdentifier": "email",
                                                                            "identifiers": {"email": "a@b.co"}}]},
                 {"contacts": [{"identifiers": {"email": "a@b.co"}}]},
                 {"contacts": [{"matchIdentifier": "email"}]},
                 {"contacts": [{"matchIdentifier": "email", "identifiers": {"email": "a@b.co"}, "lists": ["x"]}]}):
        rejected = api("PUT", "/contacts/v3/import", json=body)
        assert rejected.status_code == 400, body
        check(rejected)
        assert rejected.json()["errorCode"] in ("contacts:badRequest", "contacts:noContactsSpecified")
    invalid_id = api("GET", "/contacts/v3/contactId/abc")
    assert invalid_id.status_code == 400
    check(invalid_id)
    assert invalid_id.json()["errorCode"] == "contacts:invalidId"


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def test_v2_file_import_report_and_faults(api, check):
    tag = uuid.uuid4().hex[:8]
    book = api("POST", "/v2/address-books", json={"name": f"v2 {tag}"}).json()
    gone = f"gone-{tag}@example.com"
    api("PATCH", f"/contacts/v3/email/{gone}", json={"dataFields": {"FIRSTNAME": "Gone"}})
    api("POST", "/v2/contacts/unsubscribe", json={"email": gone})
    data = _csv([["Email", "FirstName", "EmailType", "OptInType"],
                 [f"a-{tag}@example.com", "Ann", "Html", "Single"],
                 [f"b-{tag}@example.com", "Bob", "PlainText", "Double"],
                 [f"A-{tag}@example.com", "Dup", "Html", "Single"],
                 ["broken@", "Bad", "Html", "Single"],
                 [gone, "Back?", "Html", "Single"]])
    started = api("POST", f"/v2/address-books/{book['id']}/contacts/import",
                  files={"file": ("contacts.csv", data, "text/csv")})
    assert started.status_code == 202
    check(started)
    assert started.json()["status"] == "NotFinished"
    done = wait_v2(api, started.json()["id"])
    check(done)
    assert done.json()["status"] == "Finished"
    report = api("GET", f"/v2/contacts/import/{started.json()['id']}/report")
    check(report)
    counts = report.json()
    assert (counts["newContacts"], counts["duplicateEmails"], counts["invalidEntries"], counts["unsubscribed"]) == (
        2, 1, 1, 1)
    faults = api("GET", f"/v2/contacts/import/{started.json()['id']}/report-faults")
    # The published document types this CSV as a JSON object under text/plain (its own example is CSV);
    # the NSwag document of the live service says application/octet-stream binary, which is what we serve.
    check(faults, docs=["dotdigital-v2-api-swagger.json"])
    rows = list(csv.reader(io.StringIO(faults.content.decode("utf-8-sig"))))
    assert rows[0] == ["Reason", "Email", "FirstName", "EmailType", "OptInType"]
    assert sorted(r[0] for r in rows[1:]) == ["Duplicate", "Invalid Entries", "Unsubscribed"]
    assert api("GET", f"/contacts/v3/email/{gone}").json()["channelProperties"]["email"]["status"] == "unsubscribed"
    members = api("GET", f"/v2/address-books/{book['id']}/contacts", params={"withFullData": "true"}).json()
    assert sorted(m["email"] for m in members) == [f"a-{tag}@example.com", f"b-{tag}@example.com"]
    assert {"key": "FIRSTNAME", "value": "Bob"} in next(m for m in members if m["email"].startswith("b-"))[
        "dataFields"]


def test_v2_json_import_merge_option_and_rejections(api, check):
    tag = uuid.uuid4().hex[:8]
    book = api("POST", "/v2/address-books", json={"name": f"v2json {tag}"}).json()
    data = base64.b64encode(_csv([["email", "FIRSTNAME"], [f"j-{tag}@example.com", "Jo"]])).decode()
    started = api("POST", f"/v2/address-books/{book['id']}/contacts/import/with-merge-option/OnlyOverwriteIfNotEmpty",
                  json={"filename": "c.csv", "data": data})
    assert started.status_code == 202
    check(started)
    assert wait_v2(api, started.json()["id"]).json()["status"] == "Finished"
    no_name = api("POST", f"/v2/address-books/{book['id']}/contacts/import",
                  files={"file": ("", b"Email\na@b.co\n", "text/csv")})
    assert no_name.status_code == 400 and no_name.json() == {"message": "file must be valid"}
    no_email = api("POST", "/v2/contacts/import", files={"file": ("c.csv", b"Name\nx\n", "text/csv")})
    assert no_email.json()["message"].endswith("ERROR_NO_EMAIL_COLUMN")
    bad_merge = api("POST", "/v2/contacts/import/with-merge-option/Sometimes",
                    files={"file": ("c.csv", b"Email\na@b.co\n", "text/csv")})
    assert bad_merge.status_code == 400 and bad_merge.json()["message"].endswith("ERROR_PARAMETER_INVALID")
    unknown = api("GET", f"/v2/contacts/import/{uuid.uuid4()}")
    assert unknown.status_code == 404 and unknown.json()["message"].endswith("ERROR_IMPORT_NOT_FOUND")


def test_injected_import_outcomes_and_active_import_limit(dd, api, check):
    admin(dd.base_url, "faults", {"rules": [
        {"kind": "import_status", "status": "RejectedByWatchdog", "generation": "v3", "count": 1},
        {"kind": "contact_failures", "rate": 0.5, "failure_code": "blocker", "generation": "v3", "count": 1}]})
    one = {"contacts": [{"matchIdentifier": "email", "identifiers": {"email": "watch@example.com"}}]}
    rejected = wait_v3(api, api("PUT", "/contacts/v3/import", json=one).json()["importId"])
    check(rejected)
    assert rejected.json()["status"] == "RejectedByWatchdog"
    many = {"contacts": [{"matchIdentifier": "email", "identifiers": {"email": f"f{i}@example.com"}}
                         for i in range(40)]}
    partial = wait_v3(api, api("PUT", "/contacts/v3/import", json=many).json()["importId"]).json()
    failed = {f["identifiers"]["email"] for f in partial["failures"] if f["failures"][0]["failureCode"] == "blocker"}
    assert 5 < len(failed) < 35
    again = wait_v3(api, api("PUT", "/contacts/v3/import", json=many).json()["importId"]).json()
    assert again["summary"]["newContacts"] == len(failed)  # the rule was used up; same data now imports
    admin(dd.base_url, "faults", {"rules": [{"kind": "slow_import", "seconds": 3, "count": 25}]})
    ids = [api("PUT", "/contacts/v3/import", json=one).json()["importId"] for _ in range(25)]
    too_many = api("PUT", "/contacts/v3/import", json=one)
    assert too_many.status_code == 429
    check(too_many)
    assert too_many.json()["errorCode"] == "contacts:tooManyActiveImports"
    v2_too_many = api("POST", "/v2/contacts/import", files={"file": ("c.csv", b"Email\na@b.co\n", "text/csv")})
    assert v2_too_many.json()["message"].endswith("ERROR_IMPORT_TOOMANYACTIVEIMPORTS")
    assert len(set(ids)) == 25
    for import_id in ids:  # let the slow imports drain so later tests start from no active imports
        assert wait_v3(api, import_id).json()["status"] == "Finished"
