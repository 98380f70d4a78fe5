"""Exceptions the Dotdigital hook raises, and parsing of both Dotdigital error envelopes.

v2 writes ``{"message": "<sentence>. ERROR_CODE"}`` or ``{"message": "Error: ERROR_CODE"}``; v3 writes
``{"errorCode": "contacts:<code>", "description": ..., "details": [...]}``.
"""

from __future__ import annotations

import re

_V2_CODE = re.compile(r"\b(ERROR_[A-Z0-9_]+)\b")


class DotdigitalApiError(Exception):
    """A Dotdigital call failed with a status the hook does not retry (or retries ran out)."""

    def __init__(self, status: int, error_code: str | None, message: str, method: str, path: str):
        self.status = status
        self.error_code = error_code
        self.message = message
        self.method = method
        self.path = path
        super().__init__(f"{method} {path} -> HTTP {status} {error_code or ''}: {message}".strip())


class DotdigitalEnrolmentAllowanceError(DotdigitalApiError):
    """The account used its 20 program-enrolment calls of the hour; retrying now cannot succeed."""


class DotdigitalImportError(Exception):
    """An import ended in a status other than Finished (RejectedByWatchdog, Failed, ...)."""

    def __init__(self, import_id: str, status: str, result: dict):
        self.import_id = import_id
        self.status = status
        self.result = result
        summary = result.get("summary") or {}
        super().__init__(f"import {import_id} ended {status}; summary {summary}")


def parse_error(body: object, text: str = "") -> tuple[str | None, str]:
    """(error code, message) from either envelope; code is None when the body names none."""
    if isinstance(body, dict):
        if "errorCode" in body:
            return str(body["errorCode"]), str(body.get("description") or "")
        message = body.get("message") or body.get("Message")
        if isinstance(message, str):
            found = _V2_CODE.findall(message)
            return (found[-1] if found else None), message
    found = _V2_CODE.findall(text or "")
    return (found[-1] if found else None), (text or "")[:500]
