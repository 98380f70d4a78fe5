"""v3 single-contact operations: get, PATCH (upsert with merge option, resubscribe options) and delete."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandbox.dotdigital.contacts import contact_lists, field_map, normal_mobile, v3_contact, valid_email
from sandbox.dotdigital.errors import v3_error
from sandbox.dotdigital.http_utils import emu, v3_json
from sandbox.dotdigital.writer import ContactWriter

router = APIRouter()
IDENTIFIERS = ("contactId", "email", "mobileNumber")
PATCH_MERGE = {"overwrite": "overwrite", "overwrite-if-not-empty": "overwriteIfNotEmpty",
               "overwrite-if-empty": "overwriteIfEmpty"}


def _key(identifier: str, value: str):
    if identifier not in IDENTIFIERS:
        raise v3_error(400, "invalidIdentifier", f"The identifier '{identifier}' does not exist")
    if identifier == "contactId":
        if not value.isdigit():
            raise v3_error(400, "invalidId", f"The id value '{value}' is invalid for the identifier 'contactId'")
        return int(value)
    if identifier == "email":
        if not valid_email(value):
            raise v3_error(400, "invalidId", f"The id value '{value}' is invalid for the identifier 'email'")
        return value
    mobile = normal_mobile(value)
    if mobile is None:
        raise v3_error(400, "invalidId", f"The id value '{value}' is invalid for the identifier 'mobileNumber'")
    return mobile


def _not_found(identifier: str, value: str):
    return v3_error(404, "contactNotFound", "The following contacts could not be found",
                    [{"item": value, "description": f"Not found using the identifier '{identifier}'"}])


def _find(db, identifier: str, key):
    column = {"contactId": "id", "email": "email", "mobileNumber": "mobile"}[identifier]
    return db.execute(f"SELECT * FROM contacts WHERE {column} = ?", (key,)).fetchone()


@router.get("/contacts/v3/{identifier}/{value}")
async def get_contact(request: Request, identifier: str, value: str):
    key = _key(identifier, value)
    store = emu(request).store
    with store.lock:
        row = _find(store.db, identifier, key)
        if row is None:
            raise _not_found(identifier, value)
        return v3_contact(row, contact_lists(store.db, row["id"]))


@router.patch("/contacts/v3/{identifier}/{value}")
async def patch_contact(request: Request, identifier: str, value: str):
    key = _key(identifier, value)
    merge = PATCH_MERGE.get(request.query_params.get("merge-option", "overwrite"))
    if merge is None:
        raise v3_error(400, "badRequest", "The merge-option parameter is invalid")
    body = await v3_json(request)
    if not isinstance(body, dict):
        raise v3_error(400, "badRequest", "The request body must be an object")
    for field_name, kind in (("identifiers", dict), ("dataFields", dict), ("channelProperties", dict),
                             ("lists", list)):
        if body.get(field_name) is not None and not isinstance(body[field_name], kind):
            raise v3_error(400, "badRequest", "The request is invalid",
                           [{"item": field_name, "description": f"The {field_name} field has the wrong type"}])
    identifiers = dict(body.get("identifiers") or {})
    identifiers[identifier] = key if identifier != "mobileNumber" else value
    item = dict(body, matchIdentifier=identifier, identifiers=identifiers)
    store = emu(request).store
    with store.transaction() as db:
        if identifier == "contactId" and _find(db, identifier, key) is None:
            raise _not_found(identifier, value)
        books = {r[0] for r in db.execute("SELECT id FROM address_books")}
        writer = ContactWriter(db, store.now_iso(), field_map(db), books)
        out = writer.write_v3(item, merge)
        if out.kind == "failed":
            codes = {f["failureCode"] for f in out.failures}
            if "duplicateIdentifier" in codes:
                raise v3_error(409, "idAlreadyExists", out.failures[0]["description"])
            raise v3_error(400, "badRequest", "The request is invalid",
                           [{"item": f["failureCode"], "description": f["description"]} for f in out.failures])
        row = _find(db, "contactId", out.contact_id)
        body_out = v3_contact(row, contact_lists(db, out.contact_id))
    return JSONResponse(body_out, status_code=201 if out.kind == "created" else 200)


@router.delete("/contacts/v3/{identifier}/{value}")
async def delete_contact(request: Request, identifier: str, value: str):
    key = _key(identifier, value)
    store = emu(request).store
    with store.transaction() as db:
        row = _find(db, identifier, key)
        if row is None:
            raise _not_found(identifier, value)
        db.execute("DELETE FROM book_members WHERE contact_id = ?", (row["id"],))
        db.execute("DELETE FROM contacts WHERE id = ?", (row["id"],))
    return {"contactId": row["id"]}
