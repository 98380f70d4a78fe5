"""Account info (with ApiEndpoint pointing at this emulator), server time and contact data fields."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from sandbox.dotdigital.contacts import (
    FIELD_NAME_RE,
    FIELD_TYPES,
    RESERVED_FIELD_NAMES,
    FieldTypeError,
    coerce,
)
from sandbox.dotdigital.errors import v2_error
from sandbox.dotdigital.http_utils import emu, require_object, v2_json

router = APIRouter()


@router.get("/v2/account-info")
async def account_info(request: Request):
    e = emu(request)
    props = [
        ("Name", "String", "Sandbox account"), ("MainEmail", "String", "owner@example.com"),
        ("ApiEndpoint", "String", e.base_url + "/"), ("APILocale", "String", "en-GB"),
        ("AvailableEmailSendsCredits", "Int32", "100000"), ("ApiCallsInLastHour", "Int32", "0"),
        ("ApiCallsRemaining", "Int32", "2000"), ("TimeZoneIana", "String", "Europe/London"),
    ]
    return {"id": 1, "properties": [{"name": n, "type": t, "value": v} for n, t, v in props]}


@router.get("/v2/server-time")
async def server_time(request: Request):
    now = emu(request).store.clock.now()
    return PlainTextResponse(now.strftime("%Y-%m-%d %H:%M:%S.%f+00:00"))


def _field(row) -> dict:
    value = row["default_value"]
    if value is not None:
        try:
            value = coerce(row["type"], value)
        except FieldTypeError:
            pass
    return {"name": row["name"], "type": row["type"], "visibility": row["visibility"], "defaultValue": value}


@router.get("/v2/data-fields")
async def list_data_fields(request: Request):
    rows = emu(request).store.query("SELECT * FROM data_fields ORDER BY rowid")
    return [_field(r) for r in rows]


@router.post("/v2/data-fields")
async def create_data_field(request: Request):
    body = require_object(await v2_json(request), {"name": str, "type": str, "visibility": str},
                          "ERROR_DATAFIELD_INVALID", required=("name", "type"))
    name, ftype = body["name"], body["type"]
    visibility = body.get("visibility") or "Private"
    if not FIELD_NAME_RE.match(name) or name.lower() in RESERVED_FIELD_NAMES:
        raise v2_error(400, "ERROR_DATAFIELD_INVALID", "Data field name is not valid.")
    if ftype not in FIELD_TYPES or visibility not in ("Private", "Public"):
        raise v2_error(400, "ERROR_DATAFIELD_INVALID", "Data field type or visibility is not valid.")
    default = body.get("defaultValue")
    try:
        default = coerce(ftype, default) if default is not None else None
    except FieldTypeError as exc:
        raise v2_error(400, "ERROR_DATAFIELD_INVALID", "Default value does not match the type.") from exc
    store = emu(request).store
    with store.transaction() as db:
        if db.execute("SELECT 1 FROM data_fields WHERE name = ?", (name,)).fetchone():
            raise v2_error(400, "ERROR_NON_UNIQUE_DATAFIELD", "Field already exists.")
        db.execute("INSERT INTO data_fields VALUES (?, ?, ?, ?)",
                   (name, ftype, visibility, None if default is None else str(default)))
    return JSONResponse({"name": name, "type": ftype, "visibility": visibility, "defaultValue": default},
                        status_code=201)


@router.delete("/v2/data-fields/{name}")
async def delete_data_field(request: Request, name: str):
    store = emu(request).store
    with store.transaction() as db:
        if db.execute("SELECT 1 FROM data_fields WHERE name = ?", (name,)).fetchone() is None:
            raise v2_error(404, "ERROR_DATAFIELD_NOTFOUND", "Data field not found.")
        if name.upper() in ("FIRSTNAME", "LASTNAME", "FULLNAME", "GENDER", "POSTCODE"):
            return {"dependencies": ["Default contact data field"], "result": False}
        db.execute("DELETE FROM data_fields WHERE name = ?", (name,))
    return {"dependencies": [], "result": True}
