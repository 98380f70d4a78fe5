"""SalesforceApiHook against the Salesforce emulator, reached through ordinary Airflow connections."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from sandbox.salesforce.harness import admin, start_emulator
from sfdd.hooks.salesforce import (
    SalesforceApiHook,
    SalesforceApiQuotaExceededError,
    SalesforceApiQuotaGuardError,
    SalesforceAuthError,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    emu = start_emulator(tmp_path_factory.mktemp("sf-hook"), "--generate", "450", "--seed", "5",
                         "--token-ttl", "900")
    with pytest.MonkeyPatch.context() as mp:
        for conn_id, conn in emu.connections.items():
            mp.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        yield emu, mp
    emu.stop()


@pytest.fixture
def hook(emulator):
    yield SalesforceApiHook()
    admin(emulator[0], "DELETE", "faults")
    admin(emulator[0], "POST", "quota", {"daily_quota": 100_000, "used": 0})


def _with_connection(emulator, conn_id: str, **changes) -> str:
    emu, mp = emulator
    conn = json.loads(json.dumps(emu.connections["salesforce_default"]))
    extra = conn["extra"]
    for key, value in changes.items():
        if value is None:
            extra.pop(key, None)
        else:
            extra[key] = value
    mp.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


def test_importing_the_hook_module_stays_light():
    code = ("import sys, sfdd.hooks.salesforce; "
            "print(json.dumps(sorted(m for m in ('pandas', 'pyarrow', 'pandera') if m in sys.modules)))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True,
                         env=env)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_get_conn_query_paging_and_describe(hook):
    sf = hook.get_conn()
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 450
    rows = list(hook.query_all_iter("SELECT Id, Email FROM Contact", batch_size=200))
    assert len(rows) == len({r["Id"] for r in rows}) == 450 and "attributes" not in rows[0]
    describe = hook.describe("Membership__c")
    assert describe["keyPrefix"] == "a01"
    assert hook.get_available_fields("Lead")[0] == "Id"


def test_provider_methods_keep_working(hook):
    assert hook.test_connection()[0] is True
    result = hook.make_query("SELECT Id FROM Lead", query_params={"headers": {"Sforce-Query-Options": "batchSize=200"}})
    assert result["totalSize"] == 112 and len(result["records"]) == 112


def test_bulk_query_to_csv_files_pages(hook, tmp_path):
    files = hook.bulk_query_to_csv_files("SELECT Id, Email, Title FROM Contact", tmp_path / "extract",
                                         max_records=200, poll_seconds=0.05)
    assert [f.name for f in files] == ["part-00001.csv", "part-00002.csv", "part-00003.csv"]
    counts, ids = [], set()
    for path in files:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert list(rows[0]) == ["Id", "Email", "Title"]
        counts.append(len(rows))
        ids |= {r["Id"] for r in rows}
    assert counts == [200, 200, 50] and len(ids) == 450


def test_bulk_query_pages_are_yielded_one_download_at_a_time(hook, tmp_path):
    """Extract converts a page while the next downloads, so the iterator must not fetch ahead."""
    out = tmp_path / "lazy"
    pages = hook.iter_bulk_query_csv_files("SELECT Id FROM Contact", out, max_records=200, poll_seconds=0.05)
    first = next(pages)
    assert first.name == "part-00001.csv" and sorted(p.name for p in out.iterdir()) == ["part-00001.csv"]
    first.unlink()  # the caller may remove a page once it has used it
    assert [p.name for p in pages] == ["part-00002.csv", "part-00003.csv"]


def test_bulk_query_include_deleted_uses_query_all(hook, tmp_path):
    sf = hook.get_conn()
    victim = sf.Contact.create({"LastName": "Gone", "Email": "hook.gone@example.com"})["id"]
    sf.Contact.delete(victim)
    soql = "SELECT Id, IsDeleted FROM Contact WHERE Email = 'hook.gone@example.com'"
    [live] = hook.bulk_query_to_csv_files(soql, tmp_path / "live", poll_seconds=0.05)
    [everything] = hook.bulk_query_to_csv_files(soql, tmp_path / "all", include_deleted=True, poll_seconds=0.05)
    assert list(csv.DictReader(live.open())) == []
    assert list(csv.DictReader(everything.open())) == [{"Id": victim, "IsDeleted": "true"}]
    assert [r["Id"] for r in hook.query_all_iter(soql, include_deleted=True)] == [victim]


def test_collections_upsert_chunks_and_reports_per_record_errors(hook, emulator):
    records = [{"Member_Number__c": f"H-{i:04d}", "Name": f"Member {i}", "Tier__c": "Gold"} for i in range(450)]
    records[7]["Tier__c"] = "Diamond"
    records[301]["Email__c"] = "broken@"
    before = admin(emulator[0], "GET", "stats")["api_calls"].get(
        "PATCH /services/data/vXX.X/composite/sobjects/Membership__c/Member_Number__c", 0)
    results = hook.collections_upsert("Membership__c", records, external_id_field="Member_Number__c")
    after = admin(emulator[0], "GET", "stats")["api_calls"][
        "PATCH /services/data/vXX.X/composite/sobjects/Membership__c/Member_Number__c"]
    assert after - before == 3
    assert len(results) == 450
    failures = {i: r["errors"][0]["statusCode"] for i, r in enumerate(results) if not r["success"]}
    assert failures == {7: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", 301: "INVALID_EMAIL_ADDRESS"}
    assert all(r["created"] for r in results if r["success"])
    inserted = hook.collections_insert("Lead", [{"LastName": "A", "Company": "X"}, {"LastName": "B"}])
    assert [r["success"] for r in inserted] == [True, False]


def test_bulk_ingest_upsert_writes_result_files(hook, tmp_path):
    data = tmp_path / "memberships.csv"
    data.write_text("Member_Number__c,Name,Tier__c\nI-1,One,Gold\nI-2,Two,Wood\nI-3,Three,Silver\n")
    summary = hook.bulk_ingest("Membership__c", "upsert", data, external_id_field="Member_Number__c",
                               results_dir=tmp_path / "results", poll_seconds=0.05)
    assert summary["records_processed"] == 3 and summary["records_failed"] == 1
    [ok_file], [bad_file] = summary["success_files"], summary["failed_files"]
    assert [r["Member_Number__c"] for r in csv.DictReader(ok_file.open())] == ["I-1", "I-3"]
    [bad] = list(csv.DictReader(bad_file.open()))
    assert bad["Member_Number__c"] == "I-2"
    assert bad["sf__Error"].startswith("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")


def test_expired_token_is_renewed_transparently_for_rest_and_bulk(hook, emulator, tmp_path):
    emu, _ = emulator
    sf = hook.get_conn()
    sf.query("SELECT Id FROM Contact LIMIT 1")
    issued = admin(emu, "GET", "stats")["tokens_issued"]
    admin(emu, "POST", "clock", {"advance_seconds": 901})
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] >= 450
    admin(emu, "POST", "faults", {"kind": "expire_token", "count": 1, "path": "/jobs/query"})
    files = hook.bulk_query_to_csv_files("SELECT Id FROM Lead", tmp_path, poll_seconds=0.05)
    assert sum(1 for _ in csv.DictReader(files[0].open())) == sf.query("SELECT COUNT() FROM Lead")["totalSize"]
    admin(emu, "POST", "faults", {"kind": "expire_token", "count": 1, "path": "/jobs/ingest"})
    data = tmp_path / "leads.csv"
    data.write_text("LastName,Company\nRenewed,Acme\n")
    assert hook.bulk_ingest("Lead", "insert", data, poll_seconds=0.05)["records_failed"] == 0
    assert admin(emu, "GET", "stats")["tokens_issued"] == issued + 3  # one renewal per expiry, no more


def test_quota_guard_stops_before_the_share_is_spent(hook, emulator):
    emu, _ = emulator
    admin(emu, "POST", "quota", {"daily_quota": 100, "used": 70})
    assert hook.api_usage() == (71, 100)
    hook.get_conn().query("SELECT Id FROM Contact LIMIT 1")
    with pytest.raises(SalesforceApiQuotaGuardError, match="80 of 100 .* at most 80%"):
        for _ in range(20):
            hook.get_conn().query("SELECT Id FROM Contact LIMIT 1")
    assert hook.api_usage() == (80, 100)  # the refused call was never sent


def test_org_quota_exhaustion_is_a_clear_error(hook, emulator):
    emu, _ = emulator
    unguarded = SalesforceApiHook(salesforce_conn_id=_with_connection(emulator, "sf_unguarded", max_api_share=1.0))
    admin(emu, "POST", "quota", {"daily_quota": 100, "used": 100})
    with pytest.raises(SalesforceApiQuotaExceededError, match="REQUEST_LIMIT_EXCEEDED"):
        unguarded.get_conn().query("SELECT Id FROM Contact LIMIT 1")


def test_ca_bundle_from_the_connection_is_trusted(emulator):
    emu, mp = emulator
    mp.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())  # what a real deployment might have set
    hook = SalesforceApiHook(salesforce_conn_id=_with_connection(emulator, "sf_ca"))
    assert hook.get_conn().query("SELECT COUNT() FROM Account")["totalSize"] > 0
    untrusting = SalesforceApiHook(salesforce_conn_id=_with_connection(emulator, "sf_no_ca", ca_bundle=None))
    with pytest.raises(requests.exceptions.SSLError):
        untrusting.get_conn()


def test_jwt_bearer_connection(emulator):
    hook = SalesforceApiHook(salesforce_conn_id="salesforce_jwt")
    assert hook.get_conn().query("SELECT COUNT() FROM Lead")["totalSize"] >= 112


def test_bad_credentials_fail_with_a_clear_message(emulator):
    emu, mp = emulator
    conn = dict(emu.connections["salesforce_default"], password="wrong")
    mp.setenv("AIRFLOW_CONN_SF_BAD", json.dumps(conn))
    with pytest.raises(SalesforceAuthError, match="HTTP 400: invalid client credentials"):
        SalesforceApiHook(salesforce_conn_id="sf_bad").get_conn()


def test_server_errors_are_retried_with_backoff_and_logged(hook, emulator, caplog):
    admin(emulator[0], "POST", "faults", {"replace": True, "rules": [
        {"kind": "server_error", "status": 503, "path": "/query", "count": 2}]})
    with caplog.at_level("WARNING", logger="sfdd.hooks.salesforce"):
        rows = list(hook.query_all_iter("SELECT Id FROM Contact LIMIT 3"))
    assert len(rows) == 3
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2 and "503" in retries[0]
    assert "SELECT" not in " ".join(retries)


def test_a_server_error_that_persists_surfaces_after_the_last_attempt(hook, emulator):
    from simple_salesforce.exceptions import SalesforceError

    admin(emulator[0], "POST", "faults", {"replace": True, "rules": [
        {"kind": "server_error", "status": 500, "path": "/query", "count": None}]})
    with pytest.raises(SalesforceError):
        list(hook.query_all_iter("SELECT Id FROM Contact LIMIT 3"))
