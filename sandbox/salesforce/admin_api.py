"""The sandbox's own control API under the reserved prefix ``/__sandbox__/`` (no auth: loopback only).

Real clients never call these paths; tests, the demo and the benchmarks use them to inject faults,
move the clock, read call statistics and find the deliberately dirty seed records.
"""

from __future__ import annotations

import csv
from itertools import islice

from fastapi import APIRouter, Request

from sandbox.salesforce.clock import parse_datetime
from sandbox.salesforce.errors import ApiError
from sandbox.salesforce.generator import DIRTY_MANIFEST
from sandbox.salesforce.rest_api import json_body, org_of

router = APIRouter(prefix="/__sandbox__")


@router.get("/stats")
def stats(request: Request, records: bool = False):
    org = org_of(request)
    result = org.stats()
    if records:
        result["records"] = {name: org.store.count(name) for name in org.objects}
    return result


@router.post("/stats/reset")
def reset_stats(request: Request):
    org = org_of(request)
    with org._calls_lock:
        org.calls.clear()
    return {"ok": True}


@router.get("/faults")
def get_faults(request: Request):
    return org_of(request).faults.snapshot()


@router.post("/faults")
async def set_faults(request: Request):
    """Body: one rule, a list of rules, or ``{"rules": [...], "seed": n, "replace": true}``."""
    faults = org_of(request).faults
    body = await json_body(request)
    try:
        if isinstance(body, dict) and "kind" in body:
            faults.add(body)
        else:
            rules = body if isinstance(body, list) else list((body or {}).get("rules", []))
            replace = not isinstance(body, dict) or body.get("replace", True)
            seed = body.get("seed") if isinstance(body, dict) else None
            if replace:
                faults.reset(rules, seed)
            else:
                for rule in rules:
                    faults.add(rule)
    except ValueError as exc:
        raise ApiError(400, "INVALID_FAULT", str(exc)) from None
    return faults.snapshot()


@router.delete("/faults")
def clear_faults(request: Request):
    faults = org_of(request).faults
    faults.reset([])
    return faults.snapshot()


@router.get("/clock")
def get_clock(request: Request):
    return {"now": org_of(request).clock.now().isoformat()}


@router.post("/clock")
async def set_clock(request: Request):
    """``{"now": "2026-01-01T00:00:00Z"}`` jumps there; ``{"advance_seconds": n}`` moves forward."""
    org = org_of(request)
    body = await json_body(request) or {}
    try:
        if body.get("now"):
            org.clock.set(parse_datetime(body["now"]))
        if body.get("advance_seconds") is not None:
            org.clock.advance(float(body["advance_seconds"]))
    except ValueError as exc:
        raise ApiError(400, "INVALID_CLOCK", str(exc)) from None
    return {"now": org.clock.now().isoformat()}


@router.post("/quota")
async def set_quota(request: Request):
    """``{"daily_quota": n, "used": m}``: resize the org's API allocation or reset what was used."""
    org = org_of(request)
    body = await json_body(request) or {}
    if body.get("daily_quota") is not None:
        org.quota.max = int(body["daily_quota"])
    if body.get("used") is not None:
        org.quota.used = int(body["used"])
    return {"used": org.quota.used, "max": org.quota.max}


@router.post("/tokens/revoke")
def revoke_tokens(request: Request):
    org_of(request).tokens.revoke()
    return {"ok": True}


@router.get("/dirty")
def dirty(request: Request, kind: str | None = None, object: str | None = None, limit: int = 1000,  # noqa: A002
          offset: int = 0):
    """Rows of the dirty-record manifest written by the generator (``object,id,kind,field,detail``)."""
    path = org_of(request).state_dir / DIRTY_MANIFEST
    if not path.exists():
        return {"records": [], "counts": {}}
    counts: dict[str, int] = {}
    selected = []
    with open(path, newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle)
        for row in rows:
            counts[row["kind"]] = counts.get(row["kind"], 0) + 1
            if (kind is None or row["kind"] == kind) and (object is None or row["object"] == object):
                selected.append(row)
    return {"records": list(islice(selected, offset, offset + limit)), "total": len(selected), "counts": counts}
