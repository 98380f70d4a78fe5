"""The two error envelopes Dotdigital writes, so clients parse emulator errors exactly like real ones.

v2 answers ``{"message": "<sentence>. ERROR_CODE"}`` (or ``Error: ERROR_CODE``); v3 answers
``{"errorCode": "contacts:<code>", "description": ..., "details": [{"item", "description"}]}``.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse

UNAUTHORIZED_MESSAGE = "Authorization has been denied for this request."


class ApiError(Exception):
    """Raised anywhere in a handler; the app turns it into the response as-is."""

    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status, headers=self.headers)


def v2_error(status: int, code: str, sentence: str | None = None, headers: dict | None = None) -> ApiError:
    message = f"{sentence} {code}" if sentence else f"Error: {code}"
    return ApiError(status, {"message": message}, headers)


def v3_error(status: int, code: str, description: str, details: list[dict] | None = None,
             headers: dict | None = None) -> ApiError:
    body: dict = {"errorCode": f"contacts:{code}", "description": description}
    if details is not None:
        body["details"] = details
    return ApiError(status, body, headers)


def is_v3_path(path: str) -> bool:
    return path.startswith("/contacts/v3")


def generic_error(path: str, status: int, v2_code: str, v3_code: str, text: str,
                  headers: dict | None = None) -> ApiError:
    """An error for a path whose generation decides the envelope (rate limits, injected faults)."""
    if is_v3_path(path):
        return v3_error(status, v3_code, text, headers=headers)
    return v2_error(status, v2_code, text.rstrip(".") + ".", headers=headers)
