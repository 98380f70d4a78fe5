"""Unsubscribe, suppress, resubscribe and the since-date suppression feeds (account level)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from sandbox.dotdigital.contacts import MARKETABLE, RESUBSCRIBABLE, v2_contact, valid_email
from sandbox.dotdigital.errors import v2_error
from sandbox.dotdigital.http_utils import emu, paging, path_date, path_int, require_object, v2_json
from sandbox.dotdigital.routes_books import get_book, suppression_json
from sandbox.dotdigital.store import iso
from sandbox.dotdigital.writer import suppress

router = APIRouter()


@router.post("/v2/contacts/unsubscribe")
async def unsubscribe(request: Request):
    body = require_object(await v2_json(request), {"email": str}, "ERROR_CONTACT_INVALID", required=("email",))
    store = emu(request).store
    now = store.now_iso()
    with store.transaction() as db:
        row = db.execute("SELECT id, email_status FROM contacts WHERE email = ?", (body["email"],)).fetchone()
        if row is None:
            raise v2_error(404, "ERROR_CONTACT_NOT_FOUND")
        if row["email_status"] in MARKETABLE:
            suppress(db, row["id"], "unsubscribed", now)
        return suppression_json(db, row["id"], now, "Unsubscribed")


@router.put("/v2/contacts/suppress-contacts")
async def suppress_contacts(request: Request):
    body = await v2_json(request)
    if not isinstance(body, list) or not all(isinstance(i, dict) for i in body):
        raise v2_error(400, "ERROR_PARAMETER_INVALID", "The body must be an array of contacts.")
    store = emu(request).store
    now = store.now_iso()
    suppressed, not_found = [], []
    with store.transaction() as db:
        for item in body:
            if item.get("id") is not None:
                row = db.execute("SELECT id, email, email_status FROM contacts WHERE id = ?", (item["id"],)).fetchone()
            else:
                row = db.execute("SELECT id, email, email_status FROM contacts WHERE email = ?",
                                 (item.get("email"),)).fetchone()
            if row is None:
                not_found.append({k: item.get(k) for k in ("id", "email") if item.get(k) is not None})
                continue
            if row["email_status"] in MARKETABLE:
                suppress(db, row["id"], "suppressed", now)
            suppressed.append({"id": row["id"], "email": row["email"]})
    return {"suppressed": suppressed, "notFound": not_found}


def _resubscribe(db, body: dict, now: str, challenge: bool, book_id: int | None) -> dict:
    contact = body.get("unsubscribedContact")
    if not isinstance(contact, dict) or not valid_email(contact.get("email")):
        raise v2_error(400, "ERROR_CONTACT_INVALID", "unsubscribedContact.email is required.")
    row = db.execute("SELECT * FROM contacts WHERE email = ?", (contact["email"],)).fetchone()
    if row is None:
        raise v2_error(404, "ERROR_CONTACT_NOT_FOUND")
    status = row["email_status"]
    if status not in MARKETABLE and status not in RESUBSCRIBABLE:
        result = "ContactCannotBeUnsuppressed"
    else:
        new_status = "pendingOptIn" if challenge and status not in MARKETABLE else "subscribed"
        if status not in MARKETABLE or status == "pendingOptIn":
            db.execute("UPDATE contacts SET email_status = ?, updated = ? WHERE id = ?", (new_status, now, row["id"]))
        if book_id is not None:
            db.execute("INSERT INTO book_members (book_id, contact_id, status) VALUES (?, ?, 'subscribed') "
                       "ON CONFLICT DO UPDATE SET status = 'subscribed'", (book_id, row["id"]))
        result = "ContactChallenged" if new_status == "pendingOptIn" else "ContactAdded"
    fresh = db.execute("SELECT * FROM contacts WHERE id = ?", (row["id"],)).fetchone()
    return {"contact": v2_contact(fresh), "status": result}


def _resubscribe_body(body) -> dict:
    return require_object(body, {"unsubscribedContact": dict, "preferredLocale": str,
                                 "returnUrlToUseIfChallenged": str}, "ERROR_CONTACT_INVALID",
                          required=("unsubscribedContact",))


@router.post("/v2/contacts/resubscribe")
async def resubscribe(request: Request):
    body = _resubscribe_body(await v2_json(request))
    store = emu(request).store
    with store.transaction() as db:
        return _resubscribe(db, body, store.now_iso(), True, None)


@router.post("/v2/contacts/resubscribe-with-no-challenge")
async def resubscribe_no_challenge(request: Request):
    body = _resubscribe_body(await v2_json(request))
    store = emu(request).store
    with store.transaction() as db:
        return _resubscribe(db, body, store.now_iso(), False, None)


@router.post("/v2/address-books/{book_id}/contacts/resubscribe")
async def book_resubscribe(request: Request, book_id: str):
    body = _resubscribe_body(await v2_json(request))
    store = emu(request).store
    with store.transaction() as db:
        book = get_book(db, path_int(book_id))
        return _resubscribe(db, body, store.now_iso(), True, book["id"])


@router.post("/v2/address-books/{book_id}/contacts/resubscribe-with-no-challenge")
async def book_resubscribe_no_challenge(request: Request, book_id: str):
    body = _resubscribe_body(await v2_json(request))
    store = emu(request).store
    with store.transaction() as db:
        book = get_book(db, path_int(book_id))
        return _resubscribe(db, body, store.now_iso(), False, book["id"])


def _feed(request: Request, date: str, only_unsubscribed: bool):
    select, skip = paging(request)
    since = iso(path_date(date))
    store = emu(request).store
    reason = "AND reason = 'Unsubscribed' " if only_unsubscribed else ""
    with store.lock:
        rows = store.db.execute(f"SELECT * FROM suppressions WHERE book_id IS NULL {reason}AND date_removed >= ? "
                                "AND date_removed <= ? ORDER BY date_removed, seq LIMIT ? OFFSET ?",
                                (since, store.now_iso(), select, skip)).fetchall()
        return [suppression_json(store.db, r["contact_id"], r["date_removed"], r["reason"]) for r in rows]


@router.get("/v2/contacts/suppressed-since/{date}")
async def suppressed_since(request: Request, date: str):
    return _feed(request, date, only_unsubscribed=False)


@router.get("/v2/contacts/unsubscribed-since/{date}")
async def unsubscribed_since(request: Request, date: str):
    return _feed(request, date, only_unsubscribed=True)
