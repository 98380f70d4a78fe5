"""Address books (lists): create, list, read, members, removal and list-level unsubscribe."""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.dotdigital.contacts import (
    MARKETABLE,
    field_map,
    merge_data,
    typed_fields,
    v2_contact,
    valid_email,
)
from sandbox.dotdigital.errors import v2_error
from sandbox.dotdigital.http_utils import emu, paging, path_date, path_int, require_object, v2_json
from sandbox.dotdigital.store import iso
from sandbox.dotdigital.writer import suppress

router = APIRouter()
RESERVED_BOOKS = {"test", "all contacts"}


def book_json(db, row) -> dict:
    count = db.execute("SELECT COUNT(*) FROM book_members WHERE book_id = ? AND status = 'subscribed'",
                       (row["id"],)).fetchone()[0]
    return {"id": row["id"], "name": row["name"], "visibility": row["visibility"], "contacts": count}


def get_book(db, book_id: int):
    row = db.execute("SELECT * FROM address_books WHERE id = ?", (book_id,)).fetchone()
    if row is None:
        raise v2_error(404, "ERROR_ADDRESSBOOK_NOT_FOUND")
    return row


def _list(request: Request, visibility: str | None):
    select, skip = paging(request)
    store = emu(request).store
    with store.lock:
        where, params = ("WHERE visibility = ?", [visibility]) if visibility else ("", [])
        rows = store.db.execute(f"SELECT * FROM address_books {where} ORDER BY id LIMIT ? OFFSET ?",
                                [*params, select, skip]).fetchall()
        return [book_json(store.db, r) for r in rows]


@router.get("/v2/address-books")
async def list_books(request: Request):
    return _list(request, None)


@router.get("/v2/address-books/private")
async def list_private(request: Request):
    return _list(request, "Private")


@router.get("/v2/address-books/public")
async def list_public(request: Request):
    return _list(request, "Public")


@router.post("/v2/address-books")
async def create_book(request: Request):
    body = require_object(await v2_json(request), {"name": str, "visibility": str}, "ERROR_ADDRESSBOOK_INVALID",
                          required=("name",))
    name = body["name"].strip()
    visibility = body.get("visibility") or "Private"
    if len(name) > 128 or visibility not in ("Private", "Public"):
        raise v2_error(400, "ERROR_ADDRESSBOOK_INVALID", "Address book name or visibility is not valid.")
    store = emu(request).store
    with store.transaction() as db:
        if name.lower() in RESERVED_BOOKS or db.execute("SELECT 1 FROM address_books WHERE name = ?",
                                                        (name,)).fetchone():
            raise v2_error(400, "ERROR_ADDRESSBOOK_DUPLICATE", "An address book with this name already exists.")
        cur = db.execute("INSERT INTO address_books (name, visibility) VALUES (?, ?)", (name, visibility))
        row = db.execute("SELECT * FROM address_books WHERE id = ?", (cur.lastrowid,)).fetchone()
        return book_json(db, row)


@router.get("/v2/address-books/{book_id}")
async def read_book(request: Request, book_id: str):
    store = emu(request).store
    with store.lock:
        return book_json(store.db, get_book(store.db, path_int(book_id)))


@router.get("/v2/address-books/{book_id}/contacts")
async def book_contacts(request: Request, book_id: str):
    select, skip = paging(request)
    full = request.query_params.get("withFullData", "false").lower() == "true"
    store = emu(request).store
    with store.lock:
        get_book(store.db, path_int(book_id))
        rows = store.db.execute(
            "SELECT c.* FROM book_members m JOIN contacts c ON c.id = m.contact_id WHERE m.book_id = ? "
            "AND m.status = 'subscribed' ORDER BY c.id LIMIT ? OFFSET ?", (int(book_id), select, skip)).fetchall()
    return [v2_contact(r, full) for r in rows]


@router.post("/v2/address-books/{book_id}/contacts")
async def add_contact_to_book(request: Request, book_id: str):
    body = require_object(await v2_json(request), {"email": str, "optInType": str, "emailType": str,
                                                   "dataFields": list}, "ERROR_CONTACT_INVALID", required=("email",))
    if not valid_email(body["email"]):
        raise v2_error(400, "ERROR_CONTACT_INVALID", "Email is not valid.")
    store = emu(request).store
    now = store.now_iso()
    with store.transaction() as db:
        book = get_book(db, path_int(book_id))
        data, errors = typed_fields({d.get("key"): d.get("value") for d in body.get("dataFields") or []
                                     if isinstance(d, dict)}, field_map(db))
        if errors:
            raise v2_error(400, "ERROR_DATAFIELD_INVALID", errors[0] + ".")
        row = db.execute("SELECT * FROM contacts WHERE email = ?", (body["email"],)).fetchone()
        if row is not None and row["email_status"] not in MARKETABLE:
            raise v2_error(400, "ERROR_CONTACT_SUPPRESSED", "Contact is suppressed.")
        if row is None:
            cur = db.execute("INSERT INTO contacts (email, email_type, opt_in_type, data, created, updated) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (body["email"], body.get("emailType") or "Html",
                                                           body.get("optInType") or "Unknown",
                                                           json.dumps(data), now, now))
            contact_id = cur.lastrowid
        else:
            contact_id = row["id"]
            db.execute("UPDATE contacts SET data = ?, updated = ? WHERE id = ?",
                       (json.dumps(merge_data(json.loads(row["data"]), data, "overwrite")), now, contact_id))
        db.execute("INSERT INTO book_members (book_id, contact_id, status) VALUES (?, ?, 'subscribed') "
                   "ON CONFLICT DO UPDATE SET status = 'subscribed'", (book["id"], contact_id))
        return v2_contact(db.execute("SELECT * FROM contacts WHERE id = ?", (contact_id,)).fetchone())


@router.delete("/v2/address-books/{book_id}/contacts/{contact_id}")
async def remove_contact(request: Request, book_id: str, contact_id: str):
    store = emu(request).store
    with store.transaction() as db:
        get_book(db, path_int(book_id))
        cur = db.execute("DELETE FROM book_members WHERE book_id = ? AND contact_id = ?",
                         (int(book_id), path_int(contact_id)))
        if cur.rowcount == 0:
            raise v2_error(404, "ERROR_CONTACT_NOT_FOUND")
    return Response(status_code=204)


@router.post("/v2/address-books/{book_id}/contacts/delete")
async def remove_contacts_bulk(request: Request, book_id: str):
    body = await v2_json(request)
    if not isinstance(body, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in body):
        raise v2_error(400, "ERROR_PARAMETER_INVALID", "The body must be an array of contact ids.")
    store = emu(request).store
    deletion_id = str(uuid.uuid4())
    with store.transaction() as db:
        get_book(db, path_int(book_id))
        db.executemany("DELETE FROM book_members WHERE book_id = ? AND contact_id = ?",
                       [(int(book_id), cid) for cid in body])
        db.execute("INSERT INTO deletions VALUES (?, 'Completed')", (deletion_id,))
    return JSONResponse({"id": deletion_id, "status": "Started"}, status_code=202)


@router.get("/v2/contacts/deletion/{deletion_id}")
async def deletion_status(request: Request, deletion_id: str):
    row = emu(request).store.one("SELECT * FROM deletions WHERE id = ?", (deletion_id,))
    if row is None:
        raise v2_error(404, "ERROR_PARAMETER_INVALID", "Deletion request not found.")
    return {"id": row["id"], "status": row["status"]}


def suppression_json(db, contact_id: int, date_removed: str, reason: str) -> dict:
    row = db.execute("SELECT * FROM contacts WHERE id = ?", (contact_id,)).fetchone()
    return {"suppressedContact": v2_contact(row), "dateRemoved": date_removed, "reason": reason}


@router.post("/v2/address-books/{book_id}/contacts/unsubscribe")
async def unsubscribe_from_book(request: Request, book_id: str):
    body = require_object(await v2_json(request), {"email": str}, "ERROR_CONTACT_INVALID", required=("email",))
    store = emu(request).store
    now = store.now_iso()
    with store.transaction() as db:
        book = get_book(db, path_int(book_id))
        row = db.execute("SELECT id FROM contacts WHERE email = ?", (body["email"],)).fetchone()
        if row is None:
            raise v2_error(404, "ERROR_CONTACT_NOT_FOUND")
        db.execute("INSERT INTO book_members (book_id, contact_id, status) VALUES (?, ?, 'suppressed') "
                   "ON CONFLICT DO UPDATE SET status = 'suppressed'", (book["id"], row["id"]))
        suppress(db, row["id"], "unsubscribed", now, book_id=book["id"])
        return suppression_json(db, row["id"], now, "Unsubscribed")


@router.get("/v2/address-books/{book_id}/contacts/unsubscribed-since/{date}")
async def book_unsubscribed_since(request: Request, book_id: str, date: str):
    select, skip = paging(request)
    since = iso(path_date(date))
    store = emu(request).store
    with store.lock:
        get_book(store.db, path_int(book_id))
        rows = store.db.execute("SELECT * FROM suppressions WHERE book_id = ? AND date_removed >= ? "
                                "AND date_removed <= ? ORDER BY seq LIMIT ? OFFSET ?",
                                (int(book_id), since, store.now_iso(), select, skip)).fetchall()
        return [suppression_json(store.db, r["contact_id"], r["date_removed"], r["reason"]) for r in rows]
