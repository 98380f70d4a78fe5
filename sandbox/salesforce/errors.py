"""Salesforce's error shapes: REST errors are JSON arrays; per-record errors carry statusCode and fields."""

from __future__ import annotations


class ApiError(Exception):
    """An error answered as ``[{"message", "errorCode", "fields"?}]`` with an HTTP status."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict]:
        item = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]


class RecordError(Exception):
    """A per-record failure (sObject Collections result, Bulk ingest failed row, single-record 400)."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or []

    def as_result(self) -> dict:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}

    def as_api_error(self, status: int = 400) -> ApiError:
        return ApiError(status, self.code, self.message, self.fields)

    def as_bulk_text(self) -> str:
        return f"{self.code}:{self.message}:{','.join(self.fields) or '--'}"
