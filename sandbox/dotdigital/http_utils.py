"""Request parsing with Dotdigital's own rejections (paging limits, malformed JSON, wrong types)."""

from __future__ import annotations

import json

from fastapi import Request

from sandbox.dotdigital import codec
from sandbox.dotdigital.errors import v2_error, v3_error
from sandbox.dotdigital.store import parse_when


def emu(request: Request):
    return request.app.state.emu


def paging(request: Request, default_select: int = 1000) -> tuple[int, int]:
    """select 1..1000 and skip >= 0, else 400 ERROR_PARAMETER_INVALID, as the programs spec states."""
    try:
        select = int(request.query_params.get("select", default_select))
        skip = int(request.query_params.get("skip", 0))
    except ValueError as exc:
        raise v2_error(400, "ERROR_PARAMETER_INVALID", "The select or skip parameter is not a number.") from exc
    if not 1 <= select <= 1000 or skip < 0:
        raise v2_error(400, "ERROR_PARAMETER_INVALID",
                       "Select must be between 1 and 1000 and skip must not be negative.")
    return select, skip


async def v2_json(request: Request):
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise v2_error(400, "ERROR_BODY_DOES_NOT_MATCH_CONTENT_TYPE",
                       "The request body is not valid JSON.") from exc


async def v3_json(request: Request):
    raw = await request.body()
    try:
        return codec.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise v3_error(400, "badJson", "The request JSON is badly formed") from exc


def path_date(text: str):
    try:
        return parse_when(text)
    except ValueError as exc:
        raise v2_error(400, "ERROR_PARAMETER_INVALID", f"The date '{text}' is not valid.") from exc


def path_int(text: str, code: str = "ERROR_PARAMETER_INVALID") -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise v2_error(400, code, f"The value '{text}' is not a valid id.") from exc


def require_object(body, fields: dict[str, type | tuple], code: str, required: tuple[str, ...] = ()) -> dict:
    """Reject non-objects, missing required properties and wrong JSON types with a v2 error."""
    if not isinstance(body, dict):
        raise v2_error(400, code, "The request body must be a JSON object.")
    for name in required:
        if body.get(name) in (None, ""):
            raise v2_error(400, code, f"The {name} field is required.")
    for name, kinds in fields.items():
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
            raise v2_error(400, code, f"The {name} field has the wrong type.")
        if not isinstance(value, kinds):
            raise v2_error(400, code, f"The {name} field has the wrong type.")
    return body
