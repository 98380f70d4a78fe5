"""DotdigitalHook against the Dotdigital emulator: region discovery, imports, paging, retries, consent."""

from __future__ import annotations

import json
import uuid

import pytest

from sandbox.dotdigital.launcher import admin, start_dotdigital
from sfdd.hooks.dotdigital import (
    DotdigitalApiError,
    DotdigitalEnrolmentAllowanceError,
    DotdigitalHook,
    DotdigitalImportError,
)


@pytest.fixture(scope="module")
def dd(tmp_path_factory):
    emulator = start_dotdigital(tmp_path_factory.mktemp("dd-hook"), seed=3, import_delay=0.1)
    yield emulator
    emulator.stop()


@pytest.fixture
def hook(dd, monkeypatch):
    conn = dict(dd.connections["dotdigital_default"], host="localhost")  # a "different region" host
    monkeypatch.setenv("AIRFLOW_CONN_DOTDIGITAL_DEFAULT", json.dumps(conn))
    return DotdigitalHook(max_attempts=4, backoff_base=0.05)


def test_region_discovery_sends_later_calls_to_api_endpoint(hook, dd):
    assert hook.api_base_url() == dd.base_url
    props = {p["name"]: p["value"] for p in hook.account_info()["properties"]}
    assert props["ApiEndpoint"].rstrip("/") == dd.base_url
    assert isinstance(hook.list_data_fields(), list)


def test_v3_import_round_trip_with_failures(hook):
    tag = uuid.uuid4().hex[:8]
    hook.create_data_field(f"TIER_{tag[:4]}", "String")
    book = hook.get_or_create_address_book(f"Hook {tag}")
    assert hook.get_or_create_address_book(f"hook {tag}")["id"] == book["id"]
    contacts = [{"matchIdentifier": "email", "identifiers": {"email": f"h{i}-{tag}@example.com"},
                 "dataFields": {"FIRSTNAME": f"H{i}", f"TIER_{tag[:4]}": "gold"}} for i in range(20)]
    contacts.append({"matchIdentifier": "email", "identifiers": {"email": "nope@"}})
    import_id = hook.start_contact_import_v3(contacts, merge_option="overwrite", lists=[book["id"]])
    result = hook.wait_for_contact_import_v3(import_id, poll_interval=0.05, timeout=60)
    assert result["summary"]["newContacts"] == 20
    assert [f["failures"][0]["failureCode"] for f in result["failures"]] == ["invalidEmail"]
    contact = hook.get_contact("email", f"h3-{tag}@example.com")
    assert contact["dataFields"]["FIRSTNAME"] == "H3" and contact["lists"][0]["id"] == book["id"]
    assert hook.get_contact("email", f"missing-{tag}@example.com") is None
    ids = [c["contactId"] for c in result["created"][:3]]
    hook.remove_contacts_from_address_book(book["id"], ids)
    remaining = list(hook.iter_paged(f"/v2/address-books/{book['id']}/contacts", select=7))
    assert len(remaining) == 17 and not set(ids) & {c["id"] for c in remaining}


def test_v3_import_failure_status_raises(hook, dd):
    admin(dd.base_url, "faults", {"rules": [{"kind": "import_status", "status": "RejectedByWatchdog",
                                             "generation": "v3"}]})
    import_id = hook.start_contact_import_v3([{"matchIdentifier": "email",
                                               "identifiers": {"email": "w@example.com"}}])
    with pytest.raises(DotdigitalImportError) as caught:
        hook.wait_for_contact_import_v3(import_id, poll_interval=0.05, timeout=60)
    assert caught.value.status == "RejectedByWatchdog"


def test_v2_import_with_report_faults(hook):
    tag = uuid.uuid4().hex[:8]
    book = hook.get_or_create_address_book(f"V2 hook {tag}")
    data = f"Email,FIRSTNAME\nv-{tag}@example.com,Vi\nbad@,X\nv-{tag}@example.com,Dup\n".encode()
    import_id = hook.start_contact_import_v2(book["id"], data, merge_option="Overwrite")
    result = hook.wait_for_contact_import_v2(import_id, poll_interval=0.05, timeout=60)
    assert result["report"]["newContacts"] == 1
    faults = hook.get_import_report_faults_v2(import_id)
    assert sorted(f["Reason"] for f in faults) == ["Duplicate", "Invalid Entries"]
    assert {f["Email"] for f in faults} == {"bad@", f"v-{tag}@example.com"}


def test_paging_through_campaign_activity(hook, dd):
    tag = uuid.uuid4().hex[:8]
    book = hook.get_or_create_address_book(f"Activity {tag}")
    import_id = hook.start_contact_import_v3(
        [{"matchIdentifier": "email", "identifiers": {"email": f"a{i}-{tag}@example.com"}} for i in range(120)],
        lists=[book["id"]])
    hook.wait_for_contact_import_v3(import_id, poll_interval=0.05, timeout=60)
    campaign = admin(dd.base_url, "campaigns", {"name": f"C {tag}"})
    admin(dd.base_url, "sends", {"campaignId": campaign["id"], "addressBookId": book["id"]})
    admin(dd.base_url, "clock", {"advance_seconds": 7 * 86400})
    rows = list(hook.iter_campaign_activity(campaign["id"], select=50))
    assert len(rows) == 120 and len({r["contactId"] for r in rows}) == 120
    opens = list(hook.iter_campaign_opens(campaign["id"], since="2000-01-01"))
    assert sum(r["numOpens"] for r in rows) == len(opens)
    assert campaign["id"] in [c["id"] for c in hook.iter_campaigns_with_activity_since("2000-01-01")]


def test_429_waits_for_rate_limit_reset_and_logs_without_secrets(hook, dd, caplog):
    hook.api_base_url()
    admin(dd.base_url, "faults", {"rules": [{"kind": "http", "path": "^/v2/data-fields$", "status": 429,
                                             "reset_seconds": 1, "count": 2}]})
    waits = []
    hook_sleep = __import__("time").sleep
    import sfdd.hooks.dotdigital as module

    def recording_sleep(seconds):
        waits.append(seconds)
        hook_sleep(seconds)

    try:
        module.time.sleep = recording_sleep
        with caplog.at_level("DEBUG"):
            fields = hook.list_data_fields()
    finally:
        module.time.sleep = hook_sleep
    messages = [r.getMessage() for r in caplog.records]
    assert fields and waits == [1.0, 1.0]
    retries = [m for m in messages if "HTTP 429" in m]
    assert len(retries) == 2 and all("GET /v2/data-fields" in m for m in retries), messages
    password = dd.connections["dotdigital_default"]["password"]
    assert not any(password in m for m in messages)


def test_5xx_is_retried_then_gives_up(hook, dd):
    hook.api_base_url()
    admin(dd.base_url, "faults", {"rules": [{"kind": "http", "path": "^/v2/programs$", "status": 503, "count": 2}]})
    assert {p["status"] for p in hook.list_programs()} >= {"Active", "Draft", "Deactivated"}
    admin(dd.base_url, "faults", {"rules": [{"kind": "http", "path": "^/v2/programs$", "status": 500, "count": 9}]})
    with pytest.raises(DotdigitalApiError) as caught:
        hook.list_programs()
    assert caught.value.status == 500 and caught.value.error_code == "ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE"
    admin(dd.base_url, "faults", {"rules": []})


def test_other_4xx_raise_at_once_with_the_error_code(hook):
    with pytest.raises(DotdigitalApiError) as v2:
        hook.request("GET", "/v2/address-books/424242")
    assert (v2.value.status, v2.value.error_code) == (404, "ERROR_ADDRESSBOOK_NOT_FOUND")
    with pytest.raises(DotdigitalApiError) as v3:
        hook.request("PUT", "/contacts/v3/import", json={"contacts": []})
    assert v3.value.error_code == "contacts:noContactsSpecified"


def test_enrolment_allowance_surfaces_as_clear_error(hook, dd):
    admin(dd.base_url, "config", {"enrolment_allowance": 2})
    try:
        tag = uuid.uuid4().hex[:8]
        import_id = hook.start_contact_import_v3([{"matchIdentifier": "email",
                                                   "identifiers": {"email": f"e-{tag}@example.com"}}])
        contact_id = hook.wait_for_contact_import_v3(import_id, poll_interval=0.05)["created"][0]["contactId"]
        program = next(p for p in hook.list_programs() if p["status"] == "Active")
        first = hook.enrol_in_program(program["id"], contact_ids=[contact_id])
        hook.enrol_in_program(program["id"], contact_ids=[contact_id])
        with pytest.raises(DotdigitalEnrolmentAllowanceError) as caught:
            hook.enrol_in_program(program["id"], contact_ids=[contact_id])
        assert caught.value.error_code == "ERROR_ENROLMENT_ALLOWANCE_EXCEEDED"
        assert hook.get_enrolment(first["id"])["programId"] == program["id"]
    finally:
        admin(dd.base_url, "config", {"enrolment_allowance": 20})


def test_consent_rules_through_the_hook(hook, dd):
    tag = uuid.uuid4().hex[:8]
    email, mobile = f"c-{tag}@example.com", "4477001" + str(int(tag[:5], 16) % 100000).zfill(5)
    item = {"matchIdentifier": "email", "identifiers": {"email": email, "mobileNumber": mobile},
            "channelProperties": {"email": {"status": "subscribed"}, "sms": {"status": "subscribed"}}}
    hook.wait_for_contact_import_v3(hook.start_contact_import_v3([item]), poll_interval=0.05)
    hook.request("POST", "/v2/contacts/unsubscribe", json={"email": email})
    result = hook.wait_for_contact_import_v3(hook.start_contact_import_v3([item]), poll_interval=0.05)
    assert result["failures"][0]["failures"][0]["failureCode"] == "invalidContactStatus"
    channels = hook.get_contact("email", email)["channelProperties"]
    assert (channels["email"]["status"], channels["sms"]["status"]) == ("unsubscribed", "subscribed")
    assert email in [s["suppressedContact"]["email"] for s in hook.iter_unsubscribed_since("2000-01-01")]
    assert email in [s["suppressedContact"]["email"] for s in hook.iter_suppressed_since("2000-01-01")]


def test_region_is_discovered_once_per_process_not_once_per_task(dd, monkeypatch):
    import requests

    from sfdd.hooks import dotdigital as module

    module._ACCOUNT_CACHE.clear()
    monkeypatch.setenv("AIRFLOW_CONN_DOTDIGITAL_DEFAULT", json.dumps(dd.connections["dotdigital_default"]))

    def discoveries() -> int:
        return requests.get(f"{dd.base_url}/__sandbox__/stats", timeout=10).json()["calls"].get(
            "GET /v2/account-info", 0)

    before = discoveries()
    for _ in range(3):  # three tasks of one run, each with its own hook
        assert DotdigitalHook().api_base_url() == dd.base_url
    assert discoveries() - before == 1
