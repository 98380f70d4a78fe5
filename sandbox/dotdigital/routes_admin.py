"""The reserved ``/__sandbox__/`` admin API: setup, clock and faults only (tests read state via the real API)."""

from __future__ import annotations

import json
import os

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandbox.dotdigital.contacts import normal_mobile
from sandbox.dotdigital.engagement import simulate_send
from sandbox.dotdigital.http_utils import emu
from sandbox.dotdigital.store import iso, parse_when

router = APIRouter(prefix="/__sandbox__")


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


def peak_rss_bytes() -> int:
    """VmHWM is the kernel's own high-water mark for this process's resident memory."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@router.get("/stats")
async def stats(request: Request):
    e = emu(request)
    with e.stats_lock:
        calls = dict(sorted(e.calls.items()))
    contacts = e.store.one("SELECT COUNT(*) FROM contacts")[0]
    return {"pid": os.getpid(), "peak_rss_bytes": peak_rss_bytes(), "calls": calls,
            "total_calls": sum(calls.values()), "contacts": contacts, "now": iso(e.store.clock.now())}


@router.get("/clock")
async def get_clock(request: Request):
    return {"now": iso(emu(request).store.clock.now())}


@router.post("/clock")
async def set_clock(request: Request):
    body = json.loads(await request.body() or b"{}")
    clock = emu(request).store.clock
    if "now" in body:
        clock.set(parse_when(body["now"]), frozen=bool(body.get("frozen", False)))
    if "advance_seconds" in body:
        clock.advance(float(body["advance_seconds"]))
    return {"now": iso(clock.now())}


@router.get("/faults")
async def get_faults(request: Request):
    return {"seed": emu(request).faults.seed, "rules": emu(request).faults.public()}


@router.post("/faults")
async def set_faults(request: Request):
    body = json.loads(await request.body() or b"{}")
    faults = emu(request).faults
    try:
        faults.set(body.get("rules", []), replace=body.get("replace", True))
    except ValueError as exc:
        return _bad(str(exc))
    return {"seed": faults.seed, "rules": faults.public()}


@router.post("/rate-limits")
async def set_rate_limits(request: Request):
    body = json.loads(await request.body() or b"{}")
    limiter = emu(request).limiter
    limiter.configure(body)
    return limiter.public()


@router.post("/campaigns")
async def create_campaign(request: Request):
    body = json.loads(await request.body() or b"{}")
    store = emu(request).store
    cur = store.execute("INSERT INTO campaigns (name, subject, from_name, from_email, urls) VALUES (?, ?, ?, ?, ?)",
                        (body.get("name", "Campaign"), body.get("subject", "Hello"), body.get("fromName", "Sandbox"),
                         body.get("fromEmail", "news@example.com"), json.dumps(body.get("urls") or [])))
    return {"id": cur.lastrowid}


@router.post("/sends")
async def send_campaign(request: Request):
    """Send campaign C to address book B at time T: deterministic engagement from the seed."""
    body = json.loads(await request.body() or b"{}")
    e = emu(request)
    try:
        send_time = parse_when(body["sendTime"]) if body.get("sendTime") else e.store.clock.now()
        counts = simulate_send(e.store, e.seed, int(body["campaignId"]), int(body["addressBookId"]), send_time)
    except (KeyError, ValueError) as exc:
        return _bad(f"bad send request: {exc}")
    return {"campaignId": int(body["campaignId"]), "addressBookId": int(body["addressBookId"]),
            "sendTime": iso(send_time), **counts}


@router.post("/programs")
async def create_program(request: Request):
    body = json.loads(await request.body() or b"{}")
    store = emu(request).store
    cur = store.execute("INSERT INTO programs (name, status, date_created) VALUES (?, ?, ?)",
                        (body.get("name", "Program"), body.get("status", "Active"), store.now_iso()))
    return {"id": cur.lastrowid}


@router.post("/sms-opt-outs")
async def sms_opt_out(request: Request):
    """A contact texting STOP: only the contact can undo it, never the API."""
    body = json.loads(await request.body() or b"{}")
    mobile = normal_mobile(str(body.get("mobileNumber", "")))
    store = emu(request).store
    cur = store.execute("UPDATE contacts SET sms_status = 'unsubscribed', sms_opted_out = 1, updated = ? "
                        "WHERE mobile = ?", (store.now_iso(), mobile))
    return {"updated": cur.rowcount}


@router.post("/config")
async def set_config(request: Request):
    body = json.loads(await request.body() or b"{}")
    e = emu(request)
    if "import_delay" in body:
        e.import_delay = e.imports.delay = float(body["import_delay"])
    if "enrolment_allowance" in body:
        e.enrolment_allowance = int(body["enrolment_allowance"])
    return {"import_delay": e.import_delay, "enrolment_allowance": e.enrolment_allowance}
