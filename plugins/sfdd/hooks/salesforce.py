"""The project's Salesforce hook: OAuth against the org's My Domain, a guarded API budget, streaming extracts.

It subclasses the provider's ``SalesforceHook`` so every provider feature (``make_query``,
``describe_object``, ``test_connection``) keeps working, but builds the simple-salesforce client itself:

* the access token comes from ``{instance_url}/services/oauth2/token`` (client credentials, or JWT
  bearer), which is how an External Client App on a real My Domain works and how the sandbox works;
* TLS is verified against the CA bundle named in the connection (``extra.ca_bundle``), passed on every
  request because a ``REQUESTS_CA_BUNDLE`` environment variable would otherwise override it;
* an expired session (401 ``INVALID_SESSION_ID``) is re-authenticated once and the call replayed,
  for REST and Bulk 2.0 alike, because simple-salesforce cannot refresh a token it was given;
* every API response's ``Sforce-Limit-Info`` is remembered, and calls stop with
  :class:`SalesforceApiQuotaGuardError` before the configured share of the org's daily allocation
  is spent (other integrations share that allocation).

Connection (conn_type ``salesforce``)::

    login    = OAuth consumer key (client id)       password = consumer secret (client credentials)
    extra    = {"instance_url": "https://example.my.salesforce.com", "version": "62.0",
                "auth_flow": "client_credentials" | "jwt_bearer",
                "ca_bundle": "/path/ca.pem"              (optional; default system trust store),
                "max_api_share": 0.8                     (optional; 1.0 disables the guard),
                "username": "...", "private_key": "PEM" | "private_key_file_path": "...",
                "jwt_audience": "https://login.salesforce.com"   (JWT bearer only),
                "timeout": 120}
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

DEFAULT_VERSION = "62.0"
DEFAULT_MAX_API_SHARE = 0.8
COLLECTION_LIMIT = 200
LIMIT_INFO_RE = re.compile(r"(?:^|[^-])api-usage=(\d+)/(\d+)")
FROM_RE = re.compile(r"\bfrom\s+([A-Za-z0-9_]+)", re.IGNORECASE)
BULK_OPERATIONS = {"insert": "insert", "update": "update", "upsert": "upsert", "delete": "delete",
                   "hardDelete": "hard_delete", "hard_delete": "hard_delete"}


class SalesforceAuthError(RuntimeError):
    """The token endpoint refused the connection's credentials."""


class SalesforceApiQuotaGuardError(RuntimeError):
    """Raised before a call that would use more than the allowed share of the org's daily API requests."""


class SalesforceApiQuotaExceededError(SalesforceApiQuotaGuardError):
    """The org itself answered 403 REQUEST_LIMIT_EXCEEDED: its daily allocation is spent."""


class ApiBudget:
    """The latest ``Sforce-Limit-Info`` figures and the share of them this hook may use."""

    def __init__(self, max_share: float):
        self.max_share = max_share
        self.used: int | None = None
        self.max: int | None = None
        self._lock = threading.Lock()

    def record(self, header: str | None) -> None:
        match = LIMIT_INFO_RE.search(header or "")
        if match:
            with self._lock:
                self.used, self.max = int(match.group(1)), int(match.group(2))

    def check(self) -> None:
        with self._lock:
            used, total = self.used, self.max
        if used is None or not total or self.max_share >= 1.0:
            return
        if used + 1 > self.max_share * total:
            raise SalesforceApiQuotaGuardError(
                f"Salesforce API budget reached: {used} of {total} daily API requests used, and this "
                f"integration may use at most {self.max_share:.0%} of them (connection extra "
                f"'max_api_share'). Stopping before the org's allocation is exhausted; retry after the "
                f"rolling 24-hour window frees requests or raise the share deliberately.")


log = logging.getLogger(__name__)

# Transient server-side failures worth another try (Salesforce sends no 429; throttling is 403).
RETRYABLE_STATUS = {500, 502, 503, 504}


@functools.cache
def _session_class():
    """Built on first use so that importing this module does not import requests."""
    import requests

    class ReauthenticatingSession(requests.Session):
        """A requests session that owns the bearer token for one Salesforce org."""

        def __init__(self, api_prefix: str, verify: str | bool, timeout: float, authenticate, budget: ApiBudget):
            super().__init__()
            self.api_prefix = api_prefix
            self.ca = verify
            self.default_timeout = timeout
            self.authenticate = authenticate
            self.budget = budget
            self.token: str | None = None
            self._token_lock = threading.Lock()
            self.max_attempts = 5
            self.backoff_base = 0.5

        def fresh_token(self, stale: str | None = None) -> str:
            with self._token_lock:
                if self.token is None or self.token == stale:
                    self.token = self.authenticate(self)
                return self.token

        def request(self, method, url, **kwargs):  # noqa: D401 - requests' signature
            kwargs.setdefault("verify", self.ca)
            kwargs.setdefault("timeout", self.default_timeout)
            if not str(url).startswith(self.api_prefix):
                return super().request(method, url, **kwargs)
            data = kwargs.get("data")
            if hasattr(data, "read"):
                kwargs["data"] = data.read()  # a replay after re-authentication needs the body again
            self.budget.check()
            for attempt in range(1, self.max_attempts + 1):
                token = self.fresh_token()
                response = self._send(method, url, token, kwargs)
                if response.status_code == 401 and _error_code(response) == "INVALID_SESSION_ID":
                    response.close()
                    response = self._send(method, url, self.fresh_token(stale=token), kwargs)
                if response.status_code not in RETRYABLE_STATUS or attempt == self.max_attempts:
                    break
                delay = min(self.backoff_base * 2 ** (attempt - 1), 30.0)
                # Method and path only: a query string can hold SOQL with contact data.
                log.warning("Salesforce %s %s answered %s; retry %d of %d in %.1fs", method,
                            urlsplit(str(url)).path, response.status_code, attempt, self.max_attempts - 1, delay)
                response.close()
                time.sleep(delay)
            if response.status_code == 403 and _error_code(response) == "REQUEST_LIMIT_EXCEEDED":
                raise SalesforceApiQuotaExceededError(
                    f"Salesforce refused the call: REQUEST_LIMIT_EXCEEDED ({response.headers.get('Sforce-Limit-Info')})"
                    " - the org's daily API allocation is spent.")
            return response

        def _send(self, method, url, token, kwargs):
            headers = dict(kwargs.get("headers") or {})
            headers["Authorization"] = f"Bearer {token}"
            response = super().request(method, url, **{**kwargs, "headers": headers})
            self.budget.record(response.headers.get("Sforce-Limit-Info"))
            return response

    return ReauthenticatingSession


def _error_code(response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return body[0].get("errorCode")
    return None


def _wait_for_query_job(client, job_id: str, poll_seconds: float) -> None:
    """Poll a Bulk 2.0 query job until JobComplete, starting short (see sfdd.hooks.polling).

    simple-salesforce's own ``wait_for_job`` sleeps the whole interval before its first look, which
    made every small delta extract wait for it; failures raise the same SalesforceOperationError.
    """
    from simple_salesforce.bulk2 import JobState
    from simple_salesforce.exceptions import SalesforceOperationError

    from sfdd.hooks.polling import poll_delays

    deadline = time.monotonic() + client.DEFAULT_WAIT_TIMEOUT_SECONDS
    delays = poll_delays(poll_seconds)
    state = None
    while time.monotonic() < deadline:
        time.sleep(next(delays))
        info = client.get_job(job_id, True)
        state = info["state"]
        if state == JobState.job_complete:
            return
        if state in (JobState.aborted, JobState.failed):
            raise SalesforceOperationError(f"Job failure. Response content: {info.get('errorMessage') or info}")
    raise SalesforceOperationError(f"Job timeout. Job status: {state}")


class SalesforceApiHook(SalesforceHook):
    """Salesforce hook for this package; see the module docstring for the connection fields."""

    hook_name = "Salesforce (sfdd)"

    def __init__(self, salesforce_conn_id: str = SalesforceHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(salesforce_conn_id=salesforce_conn_id, **kwargs)

    # -- connection -------------------------------------------------------------------------------------
    @cached_property
    def _settings(self) -> dict:
        connection = self.get_connection(self.conn_id)
        extras = connection.extra_dejson
        field = functools.partial(self._get_field, extras)
        instance_url = (field("instance_url") or "").rstrip("/")
        if not instance_url.startswith("https://"):
            raise ValueError(f"Connection {self.conn_id!r}: extra 'instance_url' must be the org's https:// "
                             f"My Domain URL, got {instance_url!r}")
        version = str(field("version") or DEFAULT_VERSION).lstrip("v")
        share = field("max_api_share")
        return {"instance_url": instance_url, "version": version, "auth_flow": field("auth_flow") or
                "client_credentials", "client_id": connection.login or field("consumer_key"),
                "client_secret": connection.password or field("consumer_secret"),
                "username": field("username"), "private_key": field("private_key"),
                "private_key_file_path": field("private_key_file_path"),
                "audience": field("jwt_audience") or "https://login.salesforce.com",
                "verify": field("ca_bundle") or True, "timeout": float(field("timeout") or 120),
                "max_api_share": float(share) if share is not None else DEFAULT_MAX_API_SHARE}

    @cached_property
    def budget(self) -> ApiBudget:
        return ApiBudget(self._settings["max_api_share"])

    def _authenticate(self, session) -> str:
        """POST {instance_url}/services/oauth2/token; returns the access token (never logged)."""
        s = self._settings
        url = f"{s['instance_url']}/services/oauth2/token"
        if s["auth_flow"] == "jwt_bearer":
            import jwt

            key = s["private_key"]
            if not key and s["private_key_file_path"]:
                key = Path(s["private_key_file_path"]).read_text()
            if not (key and s["username"] and s["client_id"]):
                raise SalesforceAuthError(f"Connection {self.conn_id!r}: JWT bearer needs login (consumer key), "
                                          "extra 'username' and extra 'private_key' or 'private_key_file_path'")
            assertion = jwt.encode({"iss": s["client_id"], "sub": s["username"], "aud": s["audience"],
                                    "exp": int(time.time()) + 180}, key, algorithm="RS256")
            form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
        elif s["auth_flow"] == "client_credentials":
            form = {"grant_type": "client_credentials", "client_id": s["client_id"],
                    "client_secret": s["client_secret"]}
        else:
            raise SalesforceAuthError(f"Connection {self.conn_id!r}: unknown auth_flow {s['auth_flow']!r}")
        response = session.post(url, data=form, headers={"Accept": "application/json"})
        if response.status_code != 200:
            try:
                detail = response.json().get("error_description") or response.json().get("error")
            except ValueError:
                detail = response.text[:200]
            raise SalesforceAuthError(f"Salesforce token request for connection {self.conn_id!r} failed with "
                                      f"HTTP {response.status_code}: {detail}")
        self.log.info("Obtained a Salesforce access token for connection %s (%s)", self.conn_id, s["auth_flow"])
        return response.json()["access_token"]

    @cached_property
    def conn(self):
        from simple_salesforce import Salesforce

        s = self._settings
        session = _session_class()(f"{s['instance_url']}/services/data/", s["verify"], s["timeout"],
                                   self._authenticate, self.budget)
        token = session.fresh_token()
        return Salesforce(instance_url=s["instance_url"], session_id=token, session=session, version=s["version"])

    def get_conn(self):
        return self.conn

    # -- reads ------------------------------------------------------------------------------------------
    def describe(self, sobject: str) -> dict:
        return dict(getattr(self.get_conn(), sobject).describe())

    def query_all_iter(self, soql: str, include_deleted: bool = False, batch_size: int | None = None) -> Iterator[dict]:
        """REST query paging (nextRecordsUrl) as a generator: one page in memory at a time."""
        kwargs = {"headers": {"Sforce-Query-Options": f"batchSize={batch_size}"}} if batch_size else {}
        for record in self.get_conn().query_all_iter(soql, include_deleted=include_deleted, **kwargs):
            record = dict(record)
            record.pop("attributes", None)
            yield record

    def bulk_query_to_csv_files(self, soql: str, out_dir: str | Path, include_deleted: bool = False,
                                max_records: int = 50_000, poll_seconds: float = 2.0) -> list[Path]:
        """Bulk API 2.0 query (``queryAll`` when include_deleted): each result page streamed to its own CSV.

        Files are ``part-00001.csv``, ``part-00002.csv``, ... in result order, each with a header row;
        pages hold at most ``max_records`` rows. Nothing is held in memory beyond one network chunk.
        """
        return list(self.iter_bulk_query_csv_files(soql, out_dir, include_deleted, max_records, poll_seconds))

    def iter_bulk_query_csv_files(self, soql: str, out_dir: str | Path, include_deleted: bool = False,
                                  max_records: int = 50_000, poll_seconds: float = 2.0) -> Iterator[Path]:
        """As bulk_query_to_csv_files, yielding each page's file as soon as it is downloaded, so the caller
        can work on one page while the next downloads."""
        from simple_salesforce.bulk2 import Operation, _Bulk2Client

        match = FROM_RE.search(soql)
        if not match:
            raise ValueError(f"Not a SOQL query (no FROM clause): {soql[:80]}")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        sf = self.get_conn()
        client = _Bulk2Client(match.group(1), sf.bulk2_url, dict(sf.headers), sf.session)
        job = client.create_job(Operation.query_all if include_deleted else Operation.query, soql)
        _wait_for_query_job(client, job["id"], poll_seconds)
        pages = 0
        locator = ""
        while True:
            page = client.download_job_data(str(out), job["id"], locator, max_records, chunk_size=1 << 20)
            pages += 1
            target = out / f"part-{pages:05d}.csv"
            Path(page["file"]).replace(target)
            yield target
            locator = page["locator"]
            if not locator:
                break
        self.log.info("Bulk query job %s wrote %d file(s) to %s", job["id"], pages, out)

    def api_usage(self) -> tuple[int, int]:
        """(used, max) daily API requests from the latest Sforce-Limit-Info (asks /limits if none yet)."""
        if self.budget.used is None:
            self.get_conn().restful("limits/")
        return int(self.budget.used or 0), int(self.budget.max or 0)

    # -- writes -----------------------------------------------------------------------------------------
    def _collections(self, sobject: str, records: list[dict], all_or_none: bool, method: str, path: str) -> list:
        results: list = []
        conn = self.get_conn()
        for start in range(0, len(records), COLLECTION_LIMIT):
            chunk = [{"attributes": {"type": sobject}, **{k: v for k, v in r.items() if k != "attributes"}}
                     for r in records[start:start + COLLECTION_LIMIT]]
            results.extend(conn.restful(path, method=method, json={"allOrNone": all_or_none, "records": chunk}))
        return results

    def collections_insert(self, sobject: str, records: list[dict], all_or_none: bool = False) -> list[dict]:
        """sObject Collections create, 200 records per call; results in input order."""
        return self._collections(sobject, records, all_or_none, "POST", "composite/sobjects")

    def collections_update(self, sobject: str, records: list[dict], all_or_none: bool = False) -> list[dict]:
        """sObject Collections update (each record carries its ``Id``)."""
        return self._collections(sobject, records, all_or_none, "PATCH", "composite/sobjects")

    def collections_upsert(self, sobject: str, records: list[dict], external_id_field: str | None = None,
                           all_or_none: bool = False) -> list[dict]:
        """Upsert by external id via sObject Collections (``external_id_field`` None means ``Id``)."""
        field = external_id_field or "Id"
        return self._collections(sobject, records, all_or_none, "PATCH", f"composite/sobjects/{sobject}/{field}")

    def bulk_ingest(self, sobject: str, operation: str, csv_path: str | Path, external_id_field: str | None = None,
                    results_dir: str | Path | None = None, poll_seconds: float = 2.0) -> dict:
        """Bulk API 2.0 ingest of a CSV file; success/failed/unprocessed rows saved as files.

        Returns ``{"jobs", "records_processed", "records_failed", "success_files", "failed_files",
        "unprocessed_files"}``; result files go to ``results_dir`` (default: beside the CSV).
        """
        if operation not in BULK_OPERATIONS:
            raise ValueError(f"Unknown Bulk API 2.0 operation {operation!r}; use one of {sorted(BULK_OPERATIONS)}")
        csv_path = Path(csv_path)
        out = Path(results_dir) if results_dir else csv_path.parent
        out.mkdir(parents=True, exist_ok=True)
        handler = getattr(self.get_conn().bulk2, sobject)
        kwargs: dict = {"csv_file": str(csv_path), "wait": poll_seconds}
        if operation == "upsert":
            kwargs["external_id_field"] = external_id_field or "Id"
        jobs = getattr(handler, BULK_OPERATIONS[operation])(**kwargs)
        summary: dict = {"jobs": [], "records_processed": 0, "records_failed": 0, "success_files": [],
                         "failed_files": [], "unprocessed_files": []}
        for job in jobs:
            job_id = job["job_id"]
            summary["jobs"].append(job_id)
            summary["records_processed"] += int(job["numberRecordsProcessed"])
            summary["records_failed"] += int(job["numberRecordsFailed"])
            for key, getter in (("success_files", handler.get_successful_records),
                                ("failed_files", handler.get_failed_records),
                                ("unprocessed_files", handler.get_unprocessed_records)):
                target = out / f"{csv_path.stem}.{job_id}.{key.split('_')[0]}.csv"
                getter(job_id, file=str(target))
                summary[key].append(target)
        return summary

