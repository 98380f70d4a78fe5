"""Bulk contact imports: v2 file imports (multipart CSV or JSON base64) and v3 PUT /contacts/v3/import."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from sandbox.dotdigital.contacts import V2_MERGE, V3_MERGE
from sandbox.dotdigital.errors import ApiError, v2_error, v3_error
from sandbox.dotdigital.http_utils import emu, path_int, v3_json
from sandbox.dotdigital.imports import MAX_ACTIVE_IMPORTS, V2_COUNTERS
from sandbox.dotdigital.routes_books import get_book

router = APIRouter()


async def _file_bytes(request: Request) -> tuple[str, bytes]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        files = [v for _k, v in form.multi_items() if hasattr(v, "filename")]
        if len(files) > 1:
            raise v2_error(400, "ERROR_MULTI_FILE_UPLOAD_NOT_ALLOWED", "Only one file can be uploaded.")
        if not files or not files[0].filename:
            raise ApiError(400, {"message": "file must be valid"})
        return files[0].filename, await files[0].read()
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise v2_error(400, "ERROR_BODY_DOES_NOT_MATCH_CONTENT_TYPE", "The request body is not valid JSON.") from exc
    lowered = {str(k).lower(): v for k, v in body.items()} if isinstance(body, dict) else {}
    name, data = lowered.get("filename"), lowered.get("data")
    if not isinstance(name, str) or not name or not isinstance(data, str):
        raise ApiError(400, {"message": "file must be valid"})
    try:
        return name, base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, {"message": "file must be valid"}) from exc


async def _submit_v2(request: Request, book_id: str | None, merge_option: str | None):
    e = emu(request)
    merge = "overwrite"
    if merge_option is not None:
        merge = V2_MERGE.get(merge_option.lower())
        if merge is None:
            raise v2_error(400, "ERROR_PARAMETER_INVALID", "The merge option is not valid.")
    book = None
    if book_id is not None:
        with e.store.lock:
            book = get_book(e.store.db, path_int(book_id))
        if book["name"].lower() == "test":
            raise v2_error(400, "ERROR_ADDRESSBOOK_NOTWRITABLE", "Address book cannot be written to via the API.")
    name, data = await _file_bytes(request)
    if not name.lower().endswith(".csv"):
        raise v2_error(400, "ERROR_IMPORT_UNSUPPORTED_FORMAT", "Only CSV files are supported by this sandbox.")
    header = next(csv.reader(io.StringIO(data[:65536].decode("utf-8-sig", errors="replace"))), [])
    if "email" not in [h.strip().lower() for h in header]:
        raise v2_error(400, "ERROR_NO_EMAIL_COLUMN", "The file has no Email column.")
    if e.imports.active_count() >= MAX_ACTIVE_IMPORTS:
        raise v2_error(400, "ERROR_IMPORT_TOOMANYACTIVEIMPORTS", "There are more than 25 imports running.")
    import_id = e.imports.submit("v2", data, book["id"] if book else None, merge)
    return JSONResponse({"id": import_id, "status": "NotFinished"}, status_code=202)


@router.post("/v2/address-books/{book_id}/contacts/import")
async def import_to_book(request: Request, book_id: str):
    return await _submit_v2(request, book_id, None)


@router.post("/v2/address-books/{book_id}/contacts/import/with-merge-option/{merge_option}")
async def import_to_book_merge(request: Request, book_id: str, merge_option: str):
    return await _submit_v2(request, book_id, merge_option)


@router.post("/v2/contacts/import")
async def import_contacts(request: Request):
    return await _submit_v2(request, None, None)


@router.post("/v2/contacts/import/with-merge-option/{merge_option}")
async def import_contacts_merge(request: Request, merge_option: str):
    return await _submit_v2(request, None, merge_option)


def _v2_import(request: Request, import_id: str):
    seen = emu(request).imports.visible(import_id, "v2")
    if seen is None:
        raise v2_error(404, "ERROR_IMPORT_NOT_FOUND")
    return seen


@router.get("/v2/contacts/import/{import_id}")
async def v2_import_status(request: Request, import_id: str):
    status, _row = _v2_import(request, import_id)
    return {"id": import_id, "status": status}


@router.get("/v2/contacts/import/{import_id}/report")
async def v2_import_report(request: Request, import_id: str):
    status, row = _v2_import(request, import_id)
    if status == "NotFinished" or row["report"] is None:
        raise v2_error(404, "ERROR_IMPORT_REPORT_NOT_FOUND")
    report = json.loads(row["report"])
    return {k: report.get(k, 0) for k in V2_COUNTERS}


@router.get("/v2/contacts/import/{import_id}/report-faults")
async def v2_import_faults(request: Request, import_id: str):
    status, row = _v2_import(request, import_id)
    if status == "NotFinished" or row["faults_csv"] is None:
        raise v2_error(404, "ERROR_IMPORT_REPORT_NOT_FOUND")
    return Response(b"\xef\xbb\xbf" + row["faults_csv"].encode("utf-8"), media_type="application/octet-stream")


def _check_v3_import(body) -> str:
    """Schema checks of v3_import_body; anything the spec would reject is a 400 contacts:badRequest."""
    if not isinstance(body, dict):
        raise v3_error(400, "badRequest", "The request body must be an object")
    merge = body.get("mergeOption", "overwrite")
    if merge not in ("overwrite", "overwriteIfNotEmpty", "overwriteIfEmpty"):
        raise v3_error(400, "badRequest", "The mergeOption field is invalid",
                       [{"item": "mergeOption", "description": f"'{merge}' is not a valid merge option"}])
    contacts = body.get("contacts")
    if not isinstance(contacts, list) or not contacts:
        raise v3_error(400, "noContactsSpecified", "No contacts have been specified",
                       [{"item": "contacts", "description": "At least one contact is required"}])
    details = []
    for index, item in enumerate(contacts):
        where = f"contacts[{index}]"
        if not isinstance(item, dict):
            details.append({"item": where, "description": "A contact must be an object"})
            continue
        if not isinstance(item.get("identifiers"), dict):
            details.append({"item": f"{where}.identifiers", "description": "The Identifiers field is required"})
        if not isinstance(item.get("matchIdentifier"), str):
            details.append({"item": f"{where}.matchIdentifier",
                            "description": "The MatchIdentifier field is required"})
        for key, kind in (("dataFields", dict), ("channelProperties", dict), ("lists", list)):
            if key in item and item[key] is not None and not isinstance(item[key], kind):
                details.append({"item": f"{where}.{key}", "description": f"The {key} field has the wrong type"})
        lists = item.get("lists")
        if isinstance(lists, list) and not all(isinstance(b, int) and not isinstance(b, bool) for b in lists):
            details.append({"item": f"{where}.lists", "description": "List ids must be integers"})
        if len(details) >= 20:
            break
    if details:
        raise v3_error(400, "badRequest", "The request is invalid", details)
    return merge


@router.put("/contacts/v3/import")
async def v3_import(request: Request):
    e = emu(request)
    body = await v3_json(request)
    merge = _check_v3_import(body)
    if e.imports.active_count() >= MAX_ACTIVE_IMPORTS:
        raise v3_error(429, "tooManyActiveImports",
                       "Your import request cannot be accepted as too many imports are being processed for you "
                       "account. Please wait for an import to complete and then resubmit.")
    # The body as received is already the JSON the worker reads ({"contacts": [...], ...}); re-encoding
    # a 50,000-contact list cost a third of a second per import.
    payload = await request.body()
    import_id = e.imports.submit("v3", payload, None, V3_MERGE[merge.lower()], parsed=body)
    return JSONResponse({"importId": import_id}, status_code=202)


@router.get("/contacts/v3/import/{import_id}")
async def v3_import_status(request: Request, import_id: str):
    seen = emu(request).imports.visible(import_id, "v3")
    if seen is None:
        raise v3_error(404, "importNotFound", f"The import request '{import_id}' could not be found!")
    status, row = seen
    head = json.dumps({"importId": import_id, "status": status})
    if status == "NotFinished" or not row["result"] or row["result"] == "{}":
        return Response(head, media_type="application/json")
    # The stored result is JSON already: splice it in rather than parse it and let FastAPI walk
    # 50,000 entries through jsonable_encoder (half a second per finished import).
    return Response(f"{head[:-1]}, {row['result'][1:]}", media_type="application/json")
