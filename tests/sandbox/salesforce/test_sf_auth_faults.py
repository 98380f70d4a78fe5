"""OAuth, bearer tokens, quota, fault injection and the admin API, against an org of their own."""

from __future__ import annotations

import time

import jwt
import pytest
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceOperationError,
    SalesforceRefusedRequest,
)

from sandbox.salesforce.auth import CLIENT_ID, CLIENT_SECRET
from sandbox.salesforce.harness import admin, simple_salesforce_client, start_emulator, trusted_session


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    emu = start_emulator(tmp_path_factory.mktemp("sf-faults"), "--generate", "40", "--token-ttl", "600",
                         "--daily-quota", "5000",
                         "--faults", '{"seed": 5, "rules": [{"kind": "server_error", "path": "/never-matches"}]}')
    yield emu
    emu.stop()


@pytest.fixture
def sf(emulator):
    yield simple_salesforce_client(emulator)
    admin(emulator, "DELETE", "faults")


@pytest.fixture
def http(emulator):
    return trusted_session(emulator)


def test_oauth_client_credentials_in_body_or_basic_header(emulator, http):
    url = f"{emulator.base_url}/services/oauth2/token"
    body = http.post(url, data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                "client_secret": CLIENT_SECRET}).json()
    assert body["instance_url"] == emulator.base_url and body["token_type"] == "Bearer" and body["access_token"]
    basic = http.post(url, data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert basic.status_code == 200
    wrong = http.post(url, data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": "x"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"


def test_oauth_jwt_bearer(emulator, http):
    key = open(emulator.connections["salesforce_jwt"]["extra"]["private_key_file_path"]).read()
    claims = {"iss": CLIENT_ID, "sub": "integration@sandbox.example.com", "aud": "https://login.salesforce.com",
              "exp": int(time.time()) + 120}
    url = f"{emulator.base_url}/services/oauth2/token"
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    ok = http.post(url, data={"grant_type": grant, "assertion": jwt.encode(claims, key, algorithm="RS256")})
    assert ok.status_code == 200 and ok.json()["access_token"]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    forged = http.post(url, data={"grant_type": grant, "assertion": jwt.encode(claims, stranger, algorithm="RS256")})
    assert forged.status_code == 400 and forged.json()["error"] == "invalid_grant"


def test_missing_or_bad_token_is_401_json_array(emulator, http):
    response = http.get(f"{emulator.base_url}/services/data/v62.0/limits",
                        headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_token_expires_on_the_emulated_clock(emulator, sf):
    sf.query("SELECT Id FROM Contact LIMIT 1")
    admin(emulator, "POST", "clock", {"advance_seconds": 601})
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Contact LIMIT 1")


def test_expire_token_fault_revokes_the_callers_token(emulator, sf):
    admin(emulator, "POST", "faults", {"kind": "expire_token", "count": 1, "path": "/query"})
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Contact LIMIT 1")
    with pytest.raises(SalesforceExpiredSession):
        sf.limits()


def test_server_error_fault_counts_and_503(emulator, sf):
    admin(emulator, "POST", "faults", {"rules": [{"kind": "server_error", "status": 503, "count": 2,
                                                  "path": "/limits"}]})
    for _ in range(2):
        with pytest.raises(SalesforceGeneralError) as err:
            sf.limits()
        assert err.value.status == 503
    assert sf.limits()["DailyApiRequests"]["Max"] == 5000
    assert admin(emulator, "GET", "faults")["fired"]["server_error"] == 2


def test_request_limit_fault_and_real_quota_exhaustion(emulator, sf):
    admin(emulator, "POST", "faults", {"kind": "request_limit", "count": 1})
    with pytest.raises(SalesforceRefusedRequest) as err:
        sf.limits()
    assert err.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    admin(emulator, "POST", "quota", {"used": 4999})
    sf.limits()
    with pytest.raises(SalesforceRefusedRequest) as spent:
        sf.limits()
    assert spent.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    admin(emulator, "POST", "quota", {"used": 0})


def test_rate_faults_are_deterministic_for_a_seed(emulator, sf):
    def pattern():
        admin(emulator, "POST", "faults", {"seed": 9, "rules": [{"kind": "server_error", "rate": 0.5,
                                                                 "path": "/limits"}]})
        outcome = []
        for _ in range(12):
            try:
                sf.limits()
                outcome.append(True)
            except SalesforceGeneralError:
                outcome.append(False)
        return outcome

    first = pattern()
    assert first == pattern() and True in first and False in first


def test_unable_to_lock_row_on_writes(emulator, sf):
    admin(emulator, "POST", "faults", {"kind": "unable_to_lock_row", "count": 1, "path": "Contact"})
    results = sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": "Contact"}, "LastName": "Locked"},
        {"attributes": {"type": "Contact"}, "LastName": "Fine"}]})
    assert results[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW" and results[1]["success"] is True


def test_bulk_job_fail_and_stuck(emulator, sf):
    admin(emulator, "POST", "faults", {"kind": "bulk_job_fail", "count": 1})
    with pytest.raises(SalesforceOperationError, match="Job failure"):
        list(sf.bulk2.Contact.query("SELECT Id FROM Contact", wait=0.05))
    admin(emulator, "POST", "faults", {"kind": "bulk_job_stuck", "count": 1})
    job = sf.session.post(sf.bulk2_url + "query", headers=sf.headers,
                          json={"operation": "query", "query": "SELECT Id FROM Contact"}).json()
    time.sleep(0.3)
    state = sf.session.get(sf.bulk2_url + f"query/{job['id']}", headers=sf.headers).json()["state"]
    assert state == "InProgress"
    not_ready = sf.session.get(sf.bulk2_url + f"query/{job['id']}/results", headers=sf.headers)
    assert not_ready.status_code == 412 and not_ready.json()[0]["errorCode"] == "JOB_NOT_COMPLETE"
    aborted = sf.session.patch(sf.bulk2_url + f"query/{job['id']}", headers=sf.headers, json={"state": "Aborted"})
    assert aborted.json()["state"] == "Aborted"


def test_slow_fault_delays_but_answers(emulator, sf):
    admin(emulator, "POST", "faults", {"kind": "slow", "delay_seconds": 0.3, "count": 1, "path": "/limits"})
    started = time.monotonic()
    assert sf.limits()["DailyApiRequests"]["Max"] == 5000
    assert time.monotonic() - started >= 0.3


def test_unknown_fault_kind_is_rejected(emulator, http):
    response = http.post(f"{emulator.base_url}/__sandbox__/faults", json={"kind": "meteor"})
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "INVALID_FAULT"


def test_stats_count_calls_per_endpoint_and_report_memory(emulator, sf):
    admin(emulator, "POST", "stats/reset")
    sf.query("SELECT Id FROM Contact LIMIT 1")
    sf.Contact.describe()
    stats = admin(emulator, "GET", "stats?records=true")
    assert stats["api_calls"]["GET /services/data/vXX.X/query"] == 1
    assert stats["api_calls"]["GET /services/data/vXX.X/sobjects/Contact/describe"] == 1
    assert stats["pid"] > 0 and stats["peak_rss_bytes"] > 10_000_000
    assert stats["records"]["Contact"] >= 40
