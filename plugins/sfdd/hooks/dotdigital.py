"""Dotdigital hook: the HTTP provider's HttpHook plus what Dotdigital's API needs on the wire.

Connection (type ``http``, default id ``dotdigital_default``): host/port/schema of the API (any region;
the hook discovers the account's own region from ``/v2/account-info`` once), login/password = the API
user. Example: ``AIRFLOW_CONN_DOTDIGITAL_DEFAULT='{"conn_type": "http", "host": "r1-api.dotdigital.com",
"schema": "https", "login": "apiuser-123@apiconnector.com", "password": "..."}'``.

Retries: 429 (waiting ``X-RateLimit-Reset`` seconds, capped) and 5xx/connection errors (exponential
backoff) up to ``max_attempts``; every other 4xx raises DotdigitalApiError at once with the API's error
code. Logs name method, path, status and attempt only: never bodies, contacts or credentials.
"""

from __future__ import annotations

import base64
import csv
import io
import logging
import time
from collections.abc import Iterator
from typing import Any

from airflow.providers.http.hooks.http import HttpHook

from sfdd.hooks.dotdigital_errors import (
    DotdigitalApiError,
    DotdigitalEnrolmentAllowanceError,
    DotdigitalImportError,
    parse_error,
)

# Retries go to a module logger: stdlib records reach the task log and tests' caplog alike.
log = logging.getLogger(__name__)

# An account's region does not change between the tasks of a run: one discovery per worker process and hour
# (keyed by host and API user) instead of one per task.
ACCOUNT_CACHE_SECONDS = 3600.0
JSON_HEADERS = {"Content-Type": "application/json"}
_ACCOUNT_CACHE: dict[tuple[str, str | None], tuple[float, dict]] = {}

__all__ = ["DotdigitalHook", "DotdigitalApiError", "DotdigitalEnrolmentAllowanceError", "DotdigitalImportError"]

IMPORT_FAILED_STATUSES = {"RejectedByWatchdog", "InvalidFileFormat", "Unknown", "Failed",
                          "ExceedsAllowedContactLimit", "NotAvailableInThisVersion"}
V2_MERGE_OPTIONS = {"Overwrite", "OnlyOverwriteIfNotEmpty", "OnlyOverwriteIfContactDataNotPopulated"}


class DotdigitalHook(HttpHook):
    conn_name_attr = "http_conn_id"
    default_conn_name = "dotdigital_default"
    conn_type = "http"
    hook_name = "Dotdigital"

    def __init__(self, http_conn_id: str = default_conn_name, *, max_attempts: int = 5,
                 backoff_base: float = 1.0, backoff_max: float = 60.0, rate_limit_wait_max: float = 120.0,
                 timeout: float = 121.0, **kwargs: Any) -> None:
        super().__init__(method="GET", http_conn_id=http_conn_id, **kwargs)
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.rate_limit_wait_max = rate_limit_wait_max
        self.timeout = timeout
        self._session = None
        self._api_base: str | None = None
        self._account: dict | None = None

    # -- transport -------------------------------------------------------------------------------

    def _conn_session(self):
        if self._session is None:
            self._session = self.get_conn()
            self._session.headers.update({"Accept": "application/json"})
        return self._session

    def api_base_url(self) -> str:
        """The account's regional endpoint, discovered once from /v2/account-info."""
        if self._api_base is None:
            self._conn_session()  # resolves the connection and sets base_url
            key = (self.base_url, getattr(self._session.auth, "username", None))
            cached = _ACCOUNT_CACHE.get(key)
            if cached and time.monotonic() - cached[0] < ACCOUNT_CACHE_SECONDS:
                self._account = cached[1]
            else:
                self._account = self._send(self.base_url.rstrip("/"), "GET", "/v2/account-info", {}, (200,)).json()
                _ACCOUNT_CACHE[key] = (time.monotonic(), self._account)
            endpoint = next((p.get("value") for p in self._account.get("properties", [])
                             if p.get("name") == "ApiEndpoint"), None)
            self._api_base = (endpoint or self.base_url).rstrip("/")
        return self._api_base

    def request(self, method: str, path: str, *, params: dict | None = None, json: Any = None, data: Any = None,
                files: Any = None, headers: dict | None = None, expected: tuple[int, ...] = (200, 201, 202, 204)):
        """One API call against the account's region with Dotdigital-aware retries; returns the Response."""
        kwargs = {"params": params, "json": json, "data": data, "files": files, "headers": headers}
        return self._send(self.api_base_url(), method, path, kwargs, expected)

    def _send(self, base: str, method: str, path: str, kwargs: dict, expected: tuple[int, ...]):
        import requests

        session = self._conn_session()
        method = method.upper()
        url = base + path
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = session.request(method, url, timeout=self.timeout,
                                           **{k: v for k, v in kwargs.items() if v is not None})
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= self.max_attempts:
                    raise DotdigitalApiError(0, None, f"connection failed: {type(exc).__name__}", method,
                                             path) from exc
                log.warning("Dotdigital %s %s connection error (%s), attempt %d/%d; retrying", method, path,
                                 type(exc).__name__, attempt, self.max_attempts)
                time.sleep(self._backoff(attempt))
                continue
            status = response.status_code
            if status in expected:
                return response
            if (status == 429 or status >= 500) and attempt < self.max_attempts:
                wait = self._rate_limit_wait(response) if status == 429 else self._backoff(attempt)
                log.warning("Dotdigital %s %s returned HTTP %d, attempt %d/%d; retrying in %.1fs", method,
                                 path, status, attempt, self.max_attempts, wait)
                time.sleep(wait)
                continue
            raise self._error(response, method, path)
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))

    def _rate_limit_wait(self, response) -> float:
        """X-RateLimit-Reset is seconds to wait (Dotdigital's SDK) or, if huge, a UTC epoch timestamp."""
        raw = response.headers.get("X-RateLimit-Reset")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            return self._backoff(1)
        if value > 1_000_000_000:
            value -= time.time()
        return max(0.0, min(value, self.rate_limit_wait_max))

    @staticmethod
    def _error(response, method: str, path: str) -> DotdigitalApiError:
        try:
            body = response.json()
        except ValueError:
            body = None
        code, message = parse_error(body, response.text)
        if code == "ERROR_ENROLMENT_ALLOWANCE_EXCEEDED":
            return DotdigitalEnrolmentAllowanceError(response.status_code, code, message, method, path)
        return DotdigitalApiError(response.status_code, code, message, method, path)

    # -- account and data fields -----------------------------------------------------------------

    def account_info(self) -> dict:
        self.api_base_url()
        return dict(self._account or {})

    def list_data_fields(self) -> list[dict]:
        return self.request("GET", "/v2/data-fields").json()

    def create_data_field(self, name: str, type: str, visibility: str = "Private", default: Any = None) -> dict:
        body = {"name": name, "type": type, "visibility": visibility, "defaultValue": default}
        return self.request("POST", "/v2/data-fields", json=body).json()

    # -- address books ---------------------------------------------------------------------------

    def iter_paged(self, path: str, params: dict | None = None, select: int = 1000) -> Iterator[dict]:
        """v2 select/skip paging: ask for pages until one comes back shorter than ``select``."""
        skip = 0
        while True:
            page = self.request("GET", path, params={**(params or {}), "select": select, "skip": skip}).json()
            yield from page
            if len(page) < select:
                return
            skip += select

    def list_address_books(self) -> list[dict]:
        return list(self.iter_paged("/v2/address-books"))

    def get_or_create_address_book(self, name: str, visibility: str = "Private") -> dict:
        for book in self.list_address_books():
            if book["name"].lower() == name.lower():
                return book
        return self.request("POST", "/v2/address-books", json={"name": name, "visibility": visibility}).json()

    def remove_contacts_from_address_book(self, book_id: int, contact_ids: list[int]) -> dict | None:
        """Bulk removal (one call, asynchronous deletion id); a single id uses the plain DELETE."""
        if len(contact_ids) == 1:
            self.request("DELETE", f"/v2/address-books/{book_id}/contacts/{contact_ids[0]}")
            return None
        return self.request("POST", f"/v2/address-books/{book_id}/contacts/delete", json=list(contact_ids)).json()

    # -- v3 contacts -----------------------------------------------------------------------------

    def start_contact_import_v3(self, contacts: list[dict], merge_option: str | None = None,
                                lists: list[int] | None = None) -> str:
        """PUT /contacts/v3/import; ``lists`` is added to every contact that has none of its own."""
        return self.submit_contact_import_v3(self.contact_import_v3_body(contacts, merge_option, lists))

    @staticmethod
    def contact_import_v3_body(contacts: list[dict], merge_option: str | None = None,
                               lists: list[int] | None = None) -> bytes:
        """The encoded request body, so a caller can check its size (Dotdigital refuses over 50 MB) first."""
        # msgspec (already installed with the Task SDK) encodes a 50,000-contact body about 5x faster than json.
        import msgspec

        items = contacts
        if lists:
            items = [c if c.get("lists") else {**c, "lists": list(lists)} for c in contacts]
        body: dict = {"contacts": items}
        if merge_option:
            body["mergeOption"] = merge_option
        return msgspec.json.encode(body)

    def submit_contact_import_v3(self, body: bytes) -> str:
        """PUT /contacts/v3/import with a body from contact_import_v3_body; returns the import id."""
        return self.request("PUT", "/contacts/v3/import", data=body, headers=JSON_HEADERS,
                            expected=(202,)).json()["importId"]

    def get_contact_import_v3(self, import_id: str) -> dict:
        import msgspec

        return msgspec.json.decode(self.request("GET", f"/contacts/v3/import/{import_id}").content)

    def wait_for_contact_import_v3(self, import_id: str, poll_interval: float = 1.0, timeout: float = 3600,
                                   floor: float | None = None) -> dict:
        """Poll until the import ends; ``floor`` is the longest gap between polls while the import is young
        (see sfdd.hooks.polling): a caller with nothing else queued at Dotdigital asks for a shorter one."""
        return self._wait(lambda: self.get_contact_import_v3(import_id), import_id, poll_interval, timeout, floor)

    def _wait(self, fetch, import_id: str, poll_interval: float, timeout: float, floor: float | None = None) -> dict:
        from sfdd.hooks.polling import FLOOR_SECONDS, poll_delays

        deadline = time.monotonic() + timeout
        delays = poll_delays(poll_interval, floor=FLOOR_SECONDS if floor is None else floor)
        while True:
            result = fetch()
            status = result.get("status")
            if status == "Finished":
                return result
            if status in IMPORT_FAILED_STATUSES:
                raise DotdigitalImportError(import_id, status, result)
            if time.monotonic() >= deadline:
                raise TimeoutError(f"import {import_id} still {status} after {timeout}s")
            time.sleep(next(delays))

    def get_contact(self, identifier_type: str, value: str) -> dict | None:
        """The v3 contact, or None when Dotdigital answers contacts:contactNotFound."""
        from urllib.parse import quote

        try:
            return self.request("GET", f"/contacts/v3/{identifier_type}/{quote(str(value), safe='@+')}").json()
        except DotdigitalApiError as exc:
            if exc.status == 404:
                return None
            raise

    # -- v2 file import --------------------------------------------------------------------------

    def start_contact_import_v2(self, address_book_id: int, csv_bytes: bytes, filename: str = "contacts.csv",
                                merge_option: str = "Ignore") -> str:
        """Multipart CSV import into a book; ``Ignore`` (or None) uses the route without a merge option."""
        path = f"/v2/address-books/{address_book_id}/contacts/import"
        if merge_option and merge_option != "Ignore":
            path += f"/with-merge-option/{merge_option}"
        files = {"file": (filename, csv_bytes, "text/csv")}
        return self.request("POST", path, files=files, expected=(202,)).json()["id"]

    def start_contact_import_v2_json(self, address_book_id: int, csv_bytes: bytes,
                                     filename: str = "contacts.csv") -> str:
        body = {"fileName": filename, "data": base64.b64encode(csv_bytes).decode()}
        return self.request("POST", f"/v2/address-books/{address_book_id}/contacts/import", json=body,
                            expected=(202,)).json()["id"]

    def get_contact_import_v2(self, import_id: str) -> dict:
        return self.request("GET", f"/v2/contacts/import/{import_id}").json()

    def get_import_report_v2(self, import_id: str) -> dict:
        return self.request("GET", f"/v2/contacts/import/{import_id}/report").json()

    def wait_for_contact_import_v2(self, import_id: str, poll_interval: float = 1.0, timeout: float = 3600) -> dict:
        """Waits for Finished and returns the status merged with the report counters."""
        result = self._wait(lambda: self.get_contact_import_v2(import_id), import_id, poll_interval, timeout)
        return {**result, "report": self.get_import_report_v2(import_id)}

    def get_import_report_faults_v2(self, import_id: str) -> list[dict]:
        """The report-faults CSV (Reason, then the file's columns) as dict rows."""
        raw = self.request("GET", f"/v2/contacts/import/{import_id}/report-faults").content
        text = raw.decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text)))

    # -- consent feeds and engagement ------------------------------------------------------------

    @staticmethod
    def _date(value) -> str:
        return value.isoformat() if hasattr(value, "isoformat") else str(value)

    def iter_unsubscribed_since(self, since) -> Iterator[dict]:
        return self.iter_paged(f"/v2/contacts/unsubscribed-since/{self._date(since)}")

    def iter_suppressed_since(self, since) -> Iterator[dict]:
        return self.iter_paged(f"/v2/contacts/suppressed-since/{self._date(since)}")

    def iter_campaigns_with_activity_since(self, since) -> Iterator[dict]:
        return self.iter_paged(f"/v2/campaigns/with-activity-since/{self._date(since)}")

    def iter_campaign_activity(self, campaign_id: int, since=None, select: int = 1000) -> Iterator[dict]:
        path = f"/v2/campaigns/{campaign_id}/activities"
        if since is not None:
            path += f"/since-date/{self._date(since)}"
        return self.iter_paged(path, select=select)

    def iter_campaign_opens(self, campaign_id: int, since=None) -> Iterator[dict]:
        suffix = f"/since-date/{self._date(since)}" if since is not None else ""
        return self.iter_paged(f"/v2/campaigns/{campaign_id}/opens{suffix}")

    def iter_campaign_clicks(self, campaign_id: int, since=None) -> Iterator[dict]:
        suffix = f"/since-date/{self._date(since)}" if since is not None else ""
        return self.iter_paged(f"/v2/campaigns/{campaign_id}/clicks{suffix}")

    def list_programs(self) -> list[dict]:
        return list(self.iter_paged("/v2/programs"))

    # -- programs --------------------------------------------------------------------------------

    def enrol_in_program(self, program_id: int, contact_ids: list[int] | None = None,
                         address_book_ids: list[int] | None = None) -> dict:
        """POST /v2/programs/enrolments. Raises DotdigitalEnrolmentAllowanceError past 20 calls/hour."""
        body: dict = {"programId": program_id}
        if contact_ids:
            body["contacts"] = list(contact_ids)
        if address_book_ids:
            body["addressBooks"] = list(address_book_ids)
        return self.request("POST", "/v2/programs/enrolments", json=body, expected=(201,)).json()

    def get_enrolment(self, enrolment_id: str) -> dict:
        return self.request("GET", f"/v2/programs/enrolments/{enrolment_id}").json()

    def get_enrolment_report_faults(self, enrolment_id: str) -> list[dict]:
        raw = self.request("GET", f"/v2/programs/enrolments/{enrolment_id}/report-faults").content
        return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
