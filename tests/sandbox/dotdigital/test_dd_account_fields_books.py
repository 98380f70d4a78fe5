"""Auth, account info, data fields and address books, each response held to the OpenAPI documents."""

from __future__ import annotations

import uuid

import requests


def test_wrong_credentials_get_the_real_401_body(dd):
    response = requests.get(dd.base_url + "/v2/account-info", auth=("apiuser-x@apiconnector.com", "nope"),
                            timeout=10)
    assert response.status_code == 401
    assert response.json() == {"message": "Authorization has been denied for this request."}


def test_account_info_points_api_endpoint_at_the_emulator(dd, api, check):
    response = api("GET", "/v2/account-info")
    check(response)
    props = {p["name"]: p["value"] for p in response.json()["properties"]}
    assert props["ApiEndpoint"] == dd.base_url + "/"


def test_data_fields_create_list_duplicate_and_rules(api, check):
    name = "SCORE_" + uuid.uuid4().hex[:6]
    created = api("POST", "/v2/data-fields", json={"name": name, "type": "Numeric", "visibility": "Private",
                                                   "defaultValue": 0})
    assert created.status_code == 201
    check(created)
    listed = api("GET", "/v2/data-fields")
    check(listed)
    assert name in [f["name"] for f in listed.json()]
    duplicate = api("POST", "/v2/data-fields", json={"name": name.lower(), "type": "String"})
    assert duplicate.status_code == 400
    assert duplicate.json()["message"].endswith("ERROR_NON_UNIQUE_DATAFIELD")
    check(duplicate)
    for bad in ({"name": "email", "type": "String"}, {"name": "has space", "type": "String"},
                {"name": "X" * 21, "type": "String"}, {"name": "OK1", "type": "Text"}, {"type": "String"},
                {"name": 5, "type": "String"}):
        rejected = api("POST", "/v2/data-fields", json=bad)
        assert rejected.status_code == 400, bad
        assert rejected.json()["message"].endswith("ERROR_DATAFIELD_INVALID"), bad
    deleted = api("DELETE", f"/v2/data-fields/{name}")
    check(deleted)
    assert deleted.json()["result"] is True
    assert name not in [f["name"] for f in api("GET", "/v2/data-fields").json()]


def test_address_books_create_get_list_page_and_duplicates(api, check):
    name = "Book " + uuid.uuid4().hex[:6]
    created = api("POST", "/v2/address-books", json={"name": name, "visibility": "Private"})
    check(created)
    book = created.json()
    assert book["contacts"] == 0 and isinstance(book["id"], int)
    got = api("GET", f"/v2/address-books/{book['id']}")
    check(got)
    assert got.json()["name"] == name
    listed = api("GET", "/v2/address-books", params={"select": 1000, "skip": 0})
    check(listed)
    assert book["id"] in [b["id"] for b in listed.json()]
    for bad_name in (name.upper(), "Test", "All Contacts"):
        dup = api("POST", "/v2/address-books", json={"name": bad_name})
        assert dup.json()["message"].endswith("ERROR_ADDRESSBOOK_DUPLICATE")
    missing = api("POST", "/v2/address-books", json={"visibility": "Private"})
    assert missing.status_code == 400 and missing.json()["message"].endswith("ERROR_ADDRESSBOOK_INVALID")
    not_found = api("GET", "/v2/address-books/999999")
    assert not_found.status_code == 404
    assert not_found.json() == {"message": "Error: ERROR_ADDRESSBOOK_NOT_FOUND"}


def test_paging_limits_are_enforced(api):
    for params in ({"select": 0}, {"select": 1001}, {"skip": -1}, {"select": "x"}):
        response = api("GET", "/v2/address-books", params=params)
        assert response.status_code == 400, params
        assert response.json()["message"].endswith("ERROR_PARAMETER_INVALID")


def test_book_members_add_page_and_remove(api, check):
    book = api("POST", "/v2/address-books", json={"name": "Members " + uuid.uuid4().hex[:6]}).json()
    ids = []
    for i in range(5):
        added = api("POST", f"/v2/address-books/{book['id']}/contacts",
                    json={"email": f"member{i}-{book['id']}@example.com", "dataFields": [
                        {"key": "FIRSTNAME", "value": f"M{i}"}]})
        check(added)
        ids.append(added.json()["id"])
    page = api("GET", f"/v2/address-books/{book['id']}/contacts", params={"select": 2, "skip": 2,
                                                                         "withFullData": "true"})
    check(page)
    assert [c["id"] for c in page.json()] == ids[2:4]
    single = api("DELETE", f"/v2/address-books/{book['id']}/contacts/{ids[0]}")
    assert single.status_code == 204
    bulk = api("POST", f"/v2/address-books/{book['id']}/contacts/delete", json=ids[1:3])
    assert bulk.status_code == 202
    check(bulk)
    status = api("GET", f"/v2/contacts/deletion/{bulk.json()['id']}")
    check(status)
    assert status.json()["status"] == "Completed"
    remaining = api("GET", f"/v2/address-books/{book['id']}/contacts").json()
    assert [c["id"] for c in remaining] == ids[3:]
    wrong = api("POST", f"/v2/address-books/{book['id']}/contacts/delete", json=["a"])
    assert wrong.status_code == 400 and "ERROR_" in wrong.json()["message"]
