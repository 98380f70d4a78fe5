"""Seed data: the deterministic generator with its dirty-record manifest, and loading a seed folder."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from sandbox.salesforce.clock import Clock
from sandbox.salesforce.generator import BAD_PHONES, DIRTY_MANIFEST, generate
from sandbox.salesforce.harness import admin, simple_salesforce_client, start_emulator
from sandbox.salesforce.schema import default_sobjects
from sandbox.salesforce.store import Store
from sandbox.salesforce.writes import EMAIL_RE

KINDS = {"invalid_email", "duplicate_email", "bad_phone", "too_long", "unicode_name", "csv_hostile_value",
         "opted_out_email", "opted_out_sms", "lead_contact_shared_email", "converted_lead"}


def _generate(folder, seed=21, n=1000):
    store = Store(folder, default_sobjects(), Clock())
    summary = generate(store, seed, n)
    return store, summary


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gen-a")
    store, summary = _generate(folder)
    with open(folder / DIRTY_MANIFEST, newline="", encoding="utf-8") as handle:
        manifest = list(csv.DictReader(handle))
    return store, summary, manifest


def _row(store, table, record_id):
    cur = store.reader().execute(f'SELECT * FROM "{table}" WHERE Id = ?', (record_id,))
    return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))


def test_counts_follow_the_documented_ratios(generated):
    store, summary, _ = generated
    assert summary["Contact"] == 1000 and summary["Lead"] == 250 and summary["Membership__c"] == 100
    assert store.count("Contact") == 1000 and store.count("Account") == 50
    assert store.count("LeadHistory") > 250 and store.count("OpportunityFieldHistory") > 0
    assert store.count("CampaignMember") == 20 and store.count("Task") == 20


def test_same_seed_same_records_and_manifest(generated, tmp_path):
    store, _, manifest = generated
    other, _ = _generate(tmp_path)
    query = "SELECT Id, FirstName, LastName, Email, MobilePhone, Title, HasOptedOutOfEmail, Interests__c FROM Contact"
    assert store.reader().execute(query).fetchall() == other.reader().execute(query).fetchall()
    with open(tmp_path / DIRTY_MANIFEST, newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == manifest


def test_every_dirty_kind_is_listed_and_really_dirty(generated):
    store, _, manifest = generated
    assert {m["kind"] for m in manifest} == KINDS
    contact_emails = {r[0] for r in store.reader().execute("SELECT Email FROM Contact")}
    for m in manifest:
        row = _row(store, m["object"], m["id"])
        kind = m["kind"]
        if kind == "invalid_email":
            assert not EMAIL_RE.match(row["Email__c" if m["object"] == "Membership__c" else "Email"])
        elif kind == "duplicate_email":
            other_id = m["detail"].rsplit(" ", 1)[1]
            assert row["Email"] == _row(store, "Contact", other_id)["Email"] and other_id != m["id"]
        elif kind == "bad_phone":
            assert (row.get("MobilePhone") or row.get("Mobile__c")) in BAD_PHONES
        elif kind == "too_long":
            assert len(row["Description"]) > 1000
        elif kind == "unicode_name":
            assert not (row["FirstName"] + row["LastName"]).isascii()
        elif kind == "csv_hostile_value":
            assert row["Title"][0] in "=+-@" or any(c in row["Title"] for c in ',"\n')
        elif kind == "opted_out_email":
            assert row.get("HasOptedOutOfEmail", row.get("Email_Opt_Out__c")) == 1
        elif kind == "opted_out_sms":
            assert row["SMS_Opt_Out__c"] == 1
        elif kind == "lead_contact_shared_email":
            assert row["Email"] in contact_emails
        elif kind == "converted_lead":
            contact = _row(store, "Contact", row["ConvertedContactId"])
            assert row["IsConverted"] == 1 and row["Status"] == "Closed - Converted"
            assert contact["Email"] == row["Email"]


def test_ids_are_18_chars_with_real_prefixes(generated):
    store, _, _ = generated
    for table, prefix in (("Contact", "003"), ("Lead", "00Q"), ("Account", "001"), ("Membership__c", "a01"),
                          ("Opportunity", "006"), ("Task", "00T"), ("Campaign", "701"), ("CampaignMember", "00v")):
        ids = [r[0] for r in store.reader().execute(f'SELECT Id FROM "{table}" LIMIT 50')]
        assert ids and all(len(i) == 18 and i.startswith(prefix) for i in ids)


def test_seed_folder_with_custom_schema(tmp_path):
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "schema.json").write_text(json.dumps({"sobjects": [
        {"name": "Event_Registration__c", "keyPrefix": "a0X", "fields": [
            {"name": "Email__c", "type": "email", "length": 80},
            {"name": "Seats__c", "type": "double", "precision": 4, "scale": 0},
            {"name": "Ticket__c", "type": "string", "length": 12, "externalId": True, "unique": True},
            {"name": "Kind__c", "type": "picklist", "picklistValues": [{"value": "Online"}, {"value": "Venue"}],
             "restrictedPicklist": True}]},
        {"name": "Contact", "fields": [{"name": "Shoe_Size__c", "type": "double"}]}]}))
    (seed / "Account.csv").write_text("Id,Name\n001000000000001AAA,Acme\n")
    (seed / "Contact.csv").write_text("FirstName,LastName,Email,AccountId,Shoe_Size__c,HasOptedOutOfEmail\n"
                                      "Ann,Lee,ann@example.com,001000000000001AAA,38,true\n")
    (seed / "Event_Registration__c.csv").write_text("Name,Email__c,Seats__c,Ticket__c,Kind__c\n"
                                                    "Reg 1,ann@example.com,2,T-1,Online\n")
    emulator = start_emulator(tmp_path / "state", "--seed-dir", str(seed))
    try:
        sf = simple_salesforce_client(emulator)
        describe = sf.Event_Registration__c.describe()
        assert describe["keyPrefix"] == "a0X"
        assert {f["name"] for f in describe["fields"]} >= {"Id", "Name", "Email__c", "Ticket__c", "SystemModstamp"}
        contact = sf.query("SELECT Name, Shoe_Size__c, HasOptedOutOfEmail, Account.Name FROM Contact")["records"][0]
        assert (contact["Name"], contact["Shoe_Size__c"], contact["HasOptedOutOfEmail"],
                contact["Account"]["Name"]) == ("Ann Lee", 38.0, True, "Acme")
        assert sf.Event_Registration__c.upsert("Ticket__c/T-1", {"Seats__c": 3}) == 200
        assert sf.query("SELECT Seats__c FROM Event_Registration__c")["records"][0]["Seats__c"] == 3.0
        assert admin(emulator, "GET", "dirty")["records"] == []
    finally:
        emulator.stop()


def test_bad_seed_value_stops_start_up_naming_the_file(tmp_path):
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "Contact.csv").write_text("LastName,Birthdate\nLee,not-a-date\n")
    with pytest.raises(RuntimeError) as err:
        start_emulator(tmp_path / "state", "--seed-dir", str(seed))
    assert "Contact.csv:2" in str(err.value) and "Birthdate" in str(err.value)


def test_store_survives_restart_without_seed_options(tmp_path):
    first = start_emulator(tmp_path, "--generate", "30")
    first.stop()
    second = start_emulator(tmp_path)
    try:
        assert simple_salesforce_client(second).query("SELECT COUNT() FROM Contact")["totalSize"] == 30
    finally:
        second.stop()
    assert sqlite3.connect(tmp_path / "salesforce.sqlite3").execute("SELECT COUNT(*) FROM Contact").fetchone()[0] == 30
