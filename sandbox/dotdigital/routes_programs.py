"""Programs and enrolments, with the request limits of the spec and the 20-calls-per-hour allowance."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from sandbox.dotdigital.contacts import MARKETABLE
from sandbox.dotdigital.errors import v2_error
from sandbox.dotdigital.http_utils import emu, paging, path_int, v2_json
from sandbox.dotdigital.store import iso

router = APIRouter()
ENROLMENT_ALLOWANCE_PER_HOUR = 20
ENROLMENT_STATUSES = ("Processing", "Finished")


def program_json(row) -> dict:
    return {"id": row["id"], "name": row["name"], "status": row["status"], "dateCreated": row["date_created"]}


@router.get("/v2/programs")
async def list_programs(request: Request):
    select, skip = paging(request)
    rows = emu(request).store.query("SELECT * FROM programs ORDER BY id LIMIT ? OFFSET ?", (select, skip))
    return [program_json(r) for r in rows]


@router.get("/v2/programs/{program_id}")
async def read_program(request: Request, program_id: str):
    row = emu(request).store.one("SELECT * FROM programs WHERE id = ?", (path_int(program_id),))
    if row is None:
        raise v2_error(404, "ERROR_PROGRAM_NOT_FOUND")
    return program_json(row)


def _int_list(value, name: str, limit: int, too_many_code: str) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value):
        raise v2_error(400, "ERROR_ENROLMENT_INVALID", f"The {name} field must be an array of integers.")
    if len(value) > limit:
        raise v2_error(400, too_many_code, f"No more than {limit} {name} can be enrolled in one call.")
    return value


@router.post("/v2/programs/enrolments")
async def enrol(request: Request):
    body = await v2_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("programId"), int) or isinstance(body["programId"], bool):
        raise v2_error(400, "ERROR_ENROLMENT_INVALID", "The programId field is required.")
    contacts = _int_list(body.get("contacts"), "contacts", 25, "ERROR_ENROLMENT_INVALID")
    books = _int_list(body.get("addressBooks"), "addressBooks", 10, "ERROR_ADDRESSBOOK_TOOMANY")
    if not contacts and not books:
        raise v2_error(400, "ERROR_ENROLMENT_INVALID", "Enrolment must contain contacts or address books.")
    e = emu(request)
    store = e.store
    now = store.clock.now()
    with store.transaction() as db:
        program = db.execute("SELECT * FROM programs WHERE id = ?", (body["programId"],)).fetchone()
        if program is None:
            raise v2_error(404, "ERROR_PROGRAM_NOT_FOUND")
        if program["status"] != "Active":
            raise v2_error(422, "ERROR_PROGRAM_NOT_ACTIVE")
        for book_id in books:
            if db.execute("SELECT 1 FROM address_books WHERE id = ?", (book_id,)).fetchone() is None:
                raise v2_error(400, "ERROR_ADDRESSBOOK_NOT_FOUND")
        for contact_id in contacts:
            if db.execute("SELECT 1 FROM contacts WHERE id = ?", (contact_id,)).fetchone() is None:
                raise v2_error(400, "ERROR_CONTACT_NOT_FOUND")
        hour_ago = iso(now - timedelta(hours=1))
        used = db.execute("SELECT COUNT(*) FROM enrolment_calls WHERE at > ?", (hour_ago,)).fetchone()[0]
        if used >= e.enrolment_allowance:
            raise v2_error(400, "ERROR_ENROLMENT_ALLOWANCE_EXCEEDED",
                           "You have exceeded the limit of 20 calls per hour for creating program enrolments.")
        db.execute("INSERT INTO enrolment_calls VALUES (?)", (iso(now),))
        enrolment_id = str(uuid.uuid4())
        faults_csv = _enrol_members(db, program["id"], contacts, books)
        db.execute("INSERT INTO enrolments VALUES (?, ?, 'Finished', ?, ?, ?, ?, ?)",
                   (enrolment_id, program["id"], iso(now), time.monotonic() + e.import_delay,
                    json.dumps(contacts), json.dumps(books), faults_csv))
    return JSONResponse({"id": enrolment_id, "programId": program["id"], "status": "Processing",
                         "dateCreated": iso(now), "contacts": contacts, "addressBooks": books},
                        status_code=201)


def _enrol_members(db, program_id: int, contacts: list[int], books: list[int]) -> str:
    ids = list(contacts)
    for book_id in books:
        ids += [r[0] for r in db.execute("SELECT contact_id FROM book_members WHERE book_id = ? "
                                         "AND status = 'subscribed'", (book_id,))]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Id", "Email", "TelephoneNumber", "Reason"])
    for contact_id in dict.fromkeys(ids):
        row = db.execute("SELECT id, email, mobile, email_status FROM contacts WHERE id = ?", (contact_id,)).fetchone()
        if row["email_status"] not in MARKETABLE:
            writer.writerow([row["id"], row["email"] or "", row["mobile"] or "", "Unsubcribed"])
            continue
        cur = db.execute("INSERT OR IGNORE INTO program_members VALUES (?, ?)", (program_id, contact_id))
        if cur.rowcount == 0:
            writer.writerow([row["id"], row["email"] or "", row["mobile"] or "", "AlreadyInProgram"])
    return out.getvalue()


def _enrolment_json(row) -> dict:
    status = row["status"] if time.monotonic() >= row["ready_at"] else "Processing"
    return {"id": row["id"], "programId": row["program_id"], "status": status, "dateCreated": row["date_created"],
            "contacts": json.loads(row["contacts"]), "addressBooks": json.loads(row["address_books"])}


@router.get("/v2/programs/enrolments/{enrolment_id_or_status}")
async def read_enrolment(request: Request, enrolment_id_or_status: str):
    """One route template serves both "by id" and "by status" in the spec; the value tells them apart."""
    store = emu(request).store
    if enrolment_id_or_status in ENROLMENT_STATUSES:
        select, skip = paging(request)
        rows = store.query("SELECT * FROM enrolments ORDER BY date_created, id")
        found = [_enrolment_json(r) for r in rows]
        return [r for r in found if r["status"] == enrolment_id_or_status][skip:skip + select]
    row = store.one("SELECT * FROM enrolments WHERE id = ?", (enrolment_id_or_status,))
    if row is None:
        raise v2_error(404, "ERROR_ENROLMENT_NOT_FOUND")
    return _enrolment_json(row)


@router.get("/v2/programs/enrolments/{enrolment_id}/report-faults")
async def enrolment_faults(request: Request, enrolment_id: str):
    row = emu(request).store.one("SELECT * FROM enrolments WHERE id = ?", (enrolment_id,))
    if row is None:
        raise v2_error(404, "ERROR_ENROLMENT_NOT_FOUND")
    if _enrolment_json(row)["status"] == "Processing":
        raise v2_error(400, "ERROR_ENROLMENT_IS_PROCESSING")
    return Response(row["faults_csv"].encode(), media_type="text/csv")
