"""The contact sync DAG end to end: full load, delta, re-run, backfill, dirty records, consent, segments.

Tests in this module share one pair of emulators and run in order, as a user's runs would.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from .conftest import watermark

pytestmark = pytest.mark.integration

CONTACT = "sfdd_contact_sync__contact"
LEAD = "sfdd_contact_sync__lead"
state: dict = {}


def _book_members(dd, name: str) -> dict[str, dict]:
    book = next(b for b in dd.list_address_books() if b["name"] == name)
    return {m["email"].lower(): m for m in dd.iter_paged(f"/v2/address-books/{book['id']}/contacts")}


def _contact(dd, email: str) -> dict:
    contact = dd.get_contact("email", email)
    assert contact is not None, f"{email} is not in Dotdigital"
    return contact


def _clean_contacts(sandbox, sf, n: int, where: str = "") -> list[dict]:
    dirty = {r["id"] for r in sandbox.sf_admin("GET", "dirty?object=Contact&limit=100000")["records"]}
    soql = ("SELECT Id, Email, Title, Level__c, Interests__c, HasOptedOutOfEmail, SMS_Opt_Out__c FROM Contact "
            f"WHERE Email != null {where} ORDER BY Id LIMIT 400")
    rows = [r for r in sf.query_all_iter(soql) if r["Id"] not in dirty]
    assert len(rows) >= n
    return rows


def test_full_load_writes_every_valid_contact(run_dag, sf, dd):
    result = run_dag(CONTACT, mode="full")
    assert result.state == "success"
    figures = result.figures
    total = sf.get_conn().query("SELECT COUNT() FROM Contact")["totalSize"]
    assert figures["read"] == total and figures["balanced"]
    dotdigital_failed = sum(v for k, v in figures["rejected_by_code"].items() if k.startswith("DOTDIGITAL_"))
    assert figures["created"] + dotdigital_failed == figures["valid"] > 0
    members = _book_members(dd, "Salesforce Contacts")
    assert len(members) == figures["created"]
    assert watermark("contact") is not None
    state["full"] = result


def test_dirty_records_are_rejected_with_the_right_code(sandbox, dd):
    result = state["full"]
    manifest = sandbox.sf_admin("GET", "dirty?object=Contact&limit=100000")["records"]
    by_kind: dict[str, list[dict]] = {}
    for rec in manifest:
        by_kind.setdefault(rec["kind"], []).append(rec)
    from sfdd.state.ledger import Ledger

    ledger = Ledger().rejects_for_run(CONTACT, result.run_id)
    codes_by_id: dict[str, set[str]] = {}
    for r in ledger:
        codes_by_id.setdefault(r["sf_id"], set()).add(r["error_code"])
        assert r["payload_ref"] and r["payload_row"] is not None and r["message"]
    expected = {"invalid_email": "INVALID_EMAIL", "bad_phone": "INVALID_PHONE", "too_long": "VALUE_TOO_LONG"}
    for kind, code in expected.items():
        assert by_kind.get(kind), f"the generator made no {kind} records"
        for rec in by_kind[kind]:
            assert code in codes_by_id.get(rec["id"], set()), f"{kind} record {rec['id']} not rejected as {code}"
    duplicates = sum(1 for codes in codes_by_id.values() if "DUPLICATE_IDENTIFIER" in codes)
    assert duplicates == len(by_kind["duplicate_email"])
    # Every rejected record is a dirty one: clean records are never rejected.
    dirty_ids = {rec["id"] for rec in manifest} | {rec["detail"].split()[-1] for rec in by_kind["duplicate_email"]}
    assert set(codes_by_id) <= dirty_ids
    # The figures and the ledger agree.
    assert len(codes_by_id) == result.figures["rejected"]


def test_hostile_and_unicode_values_arrive_unchanged(sandbox, sf, dd):
    manifest = sandbox.sf_admin("GET", "dirty?object=Contact&limit=100000")["records"]
    ids = [r["id"] for r in manifest if r["kind"] in ("csv_hostile_value", "unicode_name")][:12]
    assert ids
    quoted = ",".join(f"'{i}'" for i in ids)
    for row in sf.query_all_iter(f"SELECT Id, Email, FirstName, Title FROM Contact WHERE Id IN ({quoted})"):
        fields = _contact(dd, row["Email"])["dataFields"]
        assert fields["FIRSTNAME"] == (row["FirstName"] or "").strip()[:40]
        assert fields["JOB_TITLE"] == ((row["Title"] or "").strip() or None)


def test_picklist_and_multiselect_values_arrive_as_mapped(sandbox, sf, dd):
    rows = [r for r in _clean_contacts(sandbox, sf, 5, "AND Interests__c != null AND Level__c != null")][:10]
    assert rows
    names = {"Running": "INT_RUNNING", "Cycling": "INT_CYCLING", "Swimming": "INT_SWIMMING", "Yoga": "INT_YOGA",
             "Hiking": "INT_HIKING"}
    for row in rows:
        fields = _contact(dd, row["Email"])["dataFields"]
        chosen = set(row["Interests__c"].split(";"))
        assert {f: fields[f] for f in names.values()} == {f: v in chosen for v, f in names.items()}
        assert fields["CONTACT_LEVEL"] == row["Level__c"].lower()


def test_delta_carries_edits_opt_outs_and_deletes_and_keeps_dotdigital_unsubscribes(sandbox, sf, dd, run_ok):
    rows = _clean_contacts(sandbox, sf, 8, "AND HasOptedOutOfEmail = false AND SMS_Opt_Out__c = false "
                                           "AND MobilePhone != null")
    edited, unsubscribed_in_dd, email_opt_out, sms_opt_out, deleted = (
        rows[0:2], rows[2:3], rows[3:4], rows[4:5], rows[5:7])
    for row in unsubscribed_in_dd:
        dd.request("POST", "/v2/contacts/unsubscribe", json={"email": row["Email"]})
    api = sf.get_conn()
    for row in edited + unsubscribed_in_dd:
        api.Contact.update(row["Id"], {"Title": "Chief Delta Officer"})
    api.Contact.update(email_opt_out[0]["Id"], {"HasOptedOutOfEmail": True})
    api.Contact.update(sms_opt_out[0]["Id"], {"SMS_Opt_Out__c": True})
    for row in deleted:
        api.Contact.delete(row["Id"])
    before = watermark("contact")
    time.sleep(1.1)  # the run's window ends on a whole second; keep the edits inside it

    result = run_ok(CONTACT)
    figures = result.figures
    assert figures["window"]["mode"] == "delta"
    assert figures["updated"] >= 5 and figures["created"] == 0
    assert figures["deleted"] == 2 and figures["deleted_removed"] == 2
    assert figures["kept_suppressed"] == 1
    assert watermark("contact") > before

    for row in edited:
        assert _contact(dd, row["Email"])["dataFields"]["JOB_TITLE"] == "Chief Delta Officer"
    kept = _contact(dd, unsubscribed_in_dd[0]["Email"])
    assert kept["dataFields"]["JOB_TITLE"] == "Chief Delta Officer"  # data still flows
    assert kept["channelProperties"]["email"]["status"] == "unsubscribed"  # consent is not widened
    channels = _contact(dd, email_opt_out[0]["Email"])["channelProperties"]
    assert channels["email"]["status"] == "unsubscribed" and channels["sms"]["status"] == "subscribed"
    channels = _contact(dd, sms_opt_out[0]["Email"])["channelProperties"]
    assert channels["sms"]["status"] == "unsubscribed" and channels["email"]["status"] == "subscribed"
    members = _book_members(dd, "Salesforce Contacts")
    assert not {r["Email"].lower() for r in deleted} & set(members)
    state["delta"] = result
    state["watched"] = [r["Email"] for r in edited + unsubscribed_in_dd + email_opt_out + sms_opt_out]




def test_the_same_window_again_changes_nothing(dd, run_ok):
    window = state["delta"].figures["window"]
    members_before = _book_members(dd, "Salesforce Contacts")
    snapshot = {e: _contact(dd, e) for e in state["watched"]}
    result = run_ok(CONTACT, since=window["start"])
    assert result.figures["created"] == 0
    assert _book_members(dd, "Salesforce Contacts").keys() == members_before.keys()
    for email, before in snapshot.items():
        after = _contact(dd, email)
        assert after["dataFields"] == before["dataFields"]
        assert after["channelProperties"] == before["channelProperties"]


def test_backfill_of_a_past_interval_resyncs_exactly_that_interval(sandbox, sf, dd, run_ok):
    rows = _clean_contacts(sandbox, sf, 12, "AND HasOptedOutOfEmail = false")[9:11]
    now = datetime.now(UTC)
    past = (now - timedelta(days=1)).replace(hour=10, minute=30, second=0, microsecond=0)
    sandbox.sf_admin("POST", "clock", {"now": past.isoformat().replace("+00:00", "Z")})
    try:
        for row in rows:
            sf.get_conn().Contact.update(row["Id"], {"Title": "Backfilled"})
    finally:
        sandbox.sf_admin("POST", "clock", {"now": datetime.now(UTC).isoformat().replace("+00:00", "Z")})
    before = watermark("contact")

    result = run_ok(CONTACT, logical_date=past.replace(minute=0) + timedelta(hours=1))
    window = result.figures["window"]
    start, end = datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
    assert start <= past < end and end - start <= timedelta(hours=2)
    soql = (f"SELECT Id FROM Contact WHERE SystemModstamp >= {start.strftime('%Y-%m-%dT%H:%M:%SZ')} "
            f"AND SystemModstamp < {end.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    expected = sum(1 for _ in sf.query_all_iter(soql, include_deleted=True))
    assert result.figures["read"] == expected >= len(rows)
    for row in rows:
        assert _contact(dd, row["Email"])["dataFields"]["JOB_TITLE"] == "Backfilled"
    assert watermark("contact") == before  # an old interval never moves the watermark back


def test_leads_defer_to_contacts_and_converted_leads_are_skipped(sandbox, run_dag):
    result = run_dag(LEAD, mode="full")
    assert result.state == "success"
    manifest = sandbox.sf_admin("GET", "dirty?object=Lead&limit=100000")["records"]
    kinds = Counter(r["kind"] for r in manifest)
    skipped = result.figures["skipped_by_rule"]
    assert skipped["converted_lead"] == kinds["converted_lead"]
    assert skipped["email_owned_by_contact"] == kinds["lead_contact_shared_email"]
    assert result.figures["balanced"]


def test_lead_delta_looks_up_owning_contacts_by_email_not_by_reading_them_all(sandbox, sf, run_dag):
    shared = sandbox.sf_admin("GET", "dirty?object=Lead&kind=lead_contact_shared_email&limit=2")["records"]
    for rec in shared:
        sf.get_conn().Lead.update(rec["id"], {"Title": "Still a lead"})
    time.sleep(1.1)
    sandbox.sf_admin("POST", "stats/reset")
    result = run_dag(LEAD)
    assert result.state == "success"
    assert result.figures["read"] == len(shared)
    assert result.figures["skipped_by_rule"] == {"email_owned_by_contact": len(shared)}
    calls = sandbox.sf_admin("GET", "stats")["api_calls"]
    bulk_jobs = sum(n for endpoint, n in calls.items() if endpoint.startswith("POST") and "jobs/query" in endpoint)
    assert bulk_jobs == 1  # the Leads themselves; owners came from one REST query


EMAIL = re.compile(r"[\w.+-]+@example\.(?:com|org|net)")


def test_no_contact_data_or_credentials_in_logs_or_xcom(sandbox, sf, run_dag, caplog):
    rows = _clean_contacts(sandbox, sf, 3, "AND HasOptedOutOfEmail = false")[20:23]
    for row in rows:
        sf.get_conn().Contact.update(row["Id"], {"Title": "Logged nowhere"})
    time.sleep(1.1)
    with caplog.at_level("DEBUG"):
        result = run_dag(CONTACT)
    assert result.state == "success" and result.figures["updated"] >= 3
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Chunk 0" in logged  # the run's own log lines were captured
    assert not EMAIL.search(logged)
    secrets = [sandbox.connections["dotdigital_default"]["password"],
               sandbox.connections["salesforce_default"]["password"]]
    assert not any(s in logged for s in secrets)

    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        values = [str(v) for (v,) in session.query(XComModel.value).filter(XComModel.dag_id == CONTACT)]
    assert values and not any(EMAIL.search(v) for v in values)
    assert not any(s in v for v in values for s in secrets)
