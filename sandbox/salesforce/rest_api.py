"""REST API resources under ``/services/data/vXX.X/``: query, sObject describe/CRUD/upsert,
getUpdated/getDeleted, sObject Collections and limits.

Paths are matched with and without a trailing slash (the server strips it before routing), because
simple-salesforce and the documentation disagree on it.
"""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandbox.salesforce.clock import format_datetime, parse_datetime
from sandbox.salesforce.errors import ApiError, RecordError
from sandbox.salesforce.ids import is_id, to18
from sandbox.salesforce.org import Org
from sandbox.salesforce.queries import batch_size_from_header, json_value
from sandbox.salesforce.store import q

router = APIRouter(prefix="/services/data/v{version}")
MAX_COLLECTION = 200
MAX_REPLICATION_IDS = 600_000


def org_of(request: Request) -> Org:
    return request.app.state.org


async def json_body(request: Request):
    raw = await request.body()
    try:
        return json.loads(raw or b"null")
    except ValueError as exc:
        raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}") from None


def record_json(org: Org, obj, row: dict, version: str, fields: list[str] | None = None) -> dict:
    record = {"attributes": {"type": obj.name, "url": f"/services/data/v{version}/sobjects/{obj.name}/{row['Id']}"}}
    names = fields or list(obj.fields)
    for name in names:
        f = obj.lookup(name)
        if f is None:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{obj.name}'.")
        record[f.name] = json_value(f.type, row.get(f.name))
    return record


# -- discovery and limits ---------------------------------------------------------------------------
@router.get("")
def resources(version: str):
    base = f"/services/data/v{version}"
    return {name: f"{base}/{name}" for name in ("sobjects", "query", "queryAll", "limits", "composite", "jobs")}


@router.get("/limits")
def limits(request: Request, version: str):
    org = org_of(request)
    quota = org.quota
    query_jobs = sum(1 for j in org.bulk.jobs.values() if j["jobType"] == "V2Query")
    return {
        "DailyApiRequests": {"Max": quota.max, "Remaining": max(0, quota.max - quota.used)},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000 - query_jobs},
        "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
        "DataStorageMB": {"Max": 5120, "Remaining": 5120},
        "FileStorageMB": {"Max": 5120, "Remaining": 5120},
    }


@router.get("/sobjects")
def describe_global(request: Request, version: str):
    org = org_of(request)
    return {"encoding": "UTF-8", "maxBatchSize": 200,
            "sobjects": [o.describe(version) for o in org.objects.values()]}


# -- query ------------------------------------------------------------------------------------------
def _query(request: Request, version: str, q_param: str | None, include_deleted: bool):
    if not q_param:
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    size = batch_size_from_header(request.headers.get("sforce-query-options"))
    return org_of(request).cursors.start(q_param, include_deleted, size, version)


@router.get("/query")
def query(request: Request, version: str, q: str | None = None):
    return _query(request, version, q, False)


@router.get("/queryAll")
def query_all(request: Request, version: str, q: str | None = None):
    return _query(request, version, q, True)


@router.get("/query/{locator}")
@router.get("/queryAll/{locator}")
def query_more(request: Request, version: str, locator: str):
    cursor_id, _, offset = locator.rpartition("-")
    if not cursor_id or not offset.isdigit():
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    size = batch_size_from_header(request.headers.get("sforce-query-options"))
    return org_of(request).cursors.page(cursor_id, int(offset), size, version)


# -- describe, getUpdated, getDeleted ---------------------------------------------------------------
@router.get("/sobjects/{sobject}/describe")
def describe(request: Request, version: str, sobject: str):
    return org_of(request).object(sobject).full_describe(version)


@router.get("/sobjects/{sobject}")
def sobject_basic_info(request: Request, version: str, sobject: str):
    return {"objectDescribe": org_of(request).object(sobject).describe(version), "recentItems": []}


def _window(org: Org, start: str | None, end: str | None, max_days: int):
    if not start or not end:
        raise ApiError(400, "MISSING_ARGUMENT", "start and end parameters are required")
    try:
        lo, hi = parse_datetime(start), parse_datetime(end)
    except ValueError:
        raise ApiError(400, "INVALID_REPLICATION_DATE", "invalid date format") from None
    lo, hi = lo.replace(second=0, microsecond=0), hi.replace(second=0, microsecond=0)
    now = org.clock.now()
    if lo >= hi:
        raise ApiError(400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate")
    if lo < now - timedelta(days=max_days):
        raise ApiError(400, "INVALID_REPLICATION_DATE", f"startDate cannot be more than {max_days} days ago")
    hi = min(hi, now.replace(second=0, microsecond=0))
    return format_datetime(lo), format_datetime(hi)


@router.get("/sobjects/{sobject}/updated")
def get_updated(request: Request, version: str, sobject: str, start: str | None = None, end: str | None = None):
    org = org_of(request)
    obj = org.object(sobject)
    lo, hi = _window(org, start, end, 30)
    stamp = "SystemModstamp" if "SystemModstamp" in obj.fields else "CreatedDate"
    rows = org.store.reader().execute(
        f"SELECT Id FROM {q(obj.name)} WHERE {stamp} >= ? AND {stamp} < ? AND IsDeleted = 0 LIMIT ?",
        (lo, hi, MAX_REPLICATION_IDS + 1)).fetchall()
    if len(rows) > MAX_REPLICATION_IDS:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", "record limit reached. narrow the date range")
    return {"ids": [r[0] for r in rows], "latestDateCovered": hi}


@router.get("/sobjects/{sobject}/deleted")
def get_deleted(request: Request, version: str, sobject: str, start: str | None = None, end: str | None = None):
    org = org_of(request)
    obj = org.object(sobject)
    lo, hi = _window(org, start, end, 15)
    stamp = "SystemModstamp" if "SystemModstamp" in obj.fields else "CreatedDate"
    rows = org.store.reader().execute(
        f"SELECT Id, {stamp} FROM {q(obj.name)} WHERE {stamp} >= ? AND {stamp} < ? AND IsDeleted = 1 LIMIT ?",
        (lo, hi, MAX_REPLICATION_IDS + 1)).fetchall()
    if len(rows) > MAX_REPLICATION_IDS:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", "record limit reached. narrow the date range")
    earliest = format_datetime((org.clock.now() - timedelta(days=15)).replace(second=0, microsecond=0))
    return {"deletedRecords": [{"id": r[0], "deletedDate": r[1]} for r in rows],
            "earliestDateAvailable": max(earliest, lo), "latestDateCovered": hi}


# -- single-record CRUD and upsert by external id --------------------------------------------------
@router.post("/sobjects/{sobject}")
async def create_record(request: Request, version: str, sobject: str):
    org = org_of(request)
    obj = org.object(sobject)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "Expected a JSON object")
    try:
        with org.writer.transaction():
            record_id = org.writer.create(obj, body)
    except RecordError as exc:
        raise exc.as_api_error() from None
    return JSONResponse({"id": record_id, "success": True, "errors": []}, status_code=201)


@router.get("/sobjects/{sobject}/{record_id}")
def get_record(request: Request, version: str, sobject: str, record_id: str, fields: str | None = None):
    org = org_of(request)
    obj = org.object(sobject)
    row = org.store.get(obj, to18(record_id)) if is_id(record_id) else None
    if row is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return record_json(org, obj, row, version, [f.strip() for f in fields.split(",")] if fields else None)


@router.patch("/sobjects/{sobject}/{record_id}")
async def update_record(request: Request, version: str, sobject: str, record_id: str):
    org = org_of(request)
    obj = org.object(sobject)
    body = await json_body(request)
    try:
        with org.writer.transaction():
            org.writer.update(obj, record_id, body or {})
    except RecordError as exc:
        raise exc.as_api_error(404 if exc.code == "INVALID_CROSS_REFERENCE_KEY" else 400) from None
    return Response(status_code=204)


@router.delete("/sobjects/{sobject}/{record_id}")
def delete_record(request: Request, version: str, sobject: str, record_id: str):
    org = org_of(request)
    obj = org.object(sobject)
    try:
        with org.writer.transaction():
            org.writer.delete(obj, record_id)
    except RecordError as exc:
        raise exc.as_api_error(404 if exc.code in ("INVALID_CROSS_REFERENCE_KEY", "ENTITY_IS_DELETED")
                               else 400) from None
    return Response(status_code=204)


@router.get("/sobjects/{sobject}/{field}/{value}")
def get_by_external_id(request: Request, version: str, sobject: str, field: str, value: str):
    org = org_of(request)
    obj = org.object(sobject)
    f = obj.lookup(field)
    if f is None:
        raise ApiError(400, "INVALID_FIELD", f"No such column '{field}' on entity '{obj.name}'.")
    ids = org.store.find_ids(obj, f.name, value)
    if not ids:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    if len(ids) > 1:
        return JSONResponse([f"/services/data/v{version}/sobjects/{obj.name}/{i}" for i in ids], status_code=300)
    return record_json(org, obj, org.store.get(obj, ids[0]), version)


@router.patch("/sobjects/{sobject}/{field}/{value}")
async def upsert_record(request: Request, version: str, sobject: str, field: str, value: str):
    org = org_of(request)
    obj = org.object(sobject)
    body = await json_body(request) or {}
    f = obj.lookup(field)
    if f is not None and f.name != "Id":
        ids = org.store.find_ids(obj, f.name, value)
        if len(ids) > 1:
            return JSONResponse([f"/services/data/v{version}/sobjects/{obj.name}/{i}" for i in ids],
                                status_code=300)
        if not ids and request.query_params.get("updateOnly") == "true":
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    try:
        with org.writer.transaction():
            record_id, created = org.writer.upsert(obj, field, value, body)
    except RecordError as exc:
        raise exc.as_api_error() from None
    return JSONResponse({"id": record_id, "success": True, "errors": [], "created": created},
                        status_code=201 if created else 200)


# -- sObject Collections ----------------------------------------------------------------------------
def _records_payload(body) -> tuple[list[dict], bool]:
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "Expected {\"allOrNone\": bool, \"records\": [...]}")
    records = body["records"]
    if len(records) > MAX_COLLECTION:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than "
                       f"{MAX_COLLECTION} records into this call")
    return records, bool(body.get("allOrNone", False))


def _run_collection(org: Org, items: list, all_or_none: bool, apply) -> list[dict]:
    """Apply each item; with allOrNone any failure rolls everything back (Salesforce's semantics)."""
    results: list[dict] = []

    class _Rollback(Exception):
        pass

    try:
        with org.writer.transaction():
            for item in items:
                try:
                    with org.writer.transaction():
                        results.append({"success": True, **apply(item), "errors": []})
                except RecordError as exc:
                    results.append({"success": False, "errors": [exc.as_result()]})
            if all_or_none and any(not r["success"] for r in results):
                raise _Rollback
    except _Rollback:
        rolled = []
        for r in results:
            if r["success"]:
                r = {"success": False, "errors": [{
                    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                    "message": "Record rolled back because not all records were valid and the request was using "
                               "AllOrNone header", "fields": []}], **({"id": r["id"]} if not r.get("created", True)
                                                                      else {})}
            rolled.append(r)
        results = rolled
    ordered = []
    for r in results:
        out = {"id": r.get("id")} if "id" in r else {}
        out.update({"success": r["success"], "errors": r["errors"]})
        if "created" in r:
            out["created"] = r["created"]
        ordered.append(out)
    return ordered


def _type_of(org: Org, record: dict):
    if not isinstance(record, dict):
        raise RecordError("JSON_PARSER_ERROR", "record must be an object")
    sobject = (record.get("attributes") or {}).get("type")
    if not sobject:
        raise RecordError("INVALID_TYPE", "Must specify a type in attributes")
    obj = next((o for o in org.objects.values() if o.name.lower() == sobject.lower()), None)
    if obj is None:
        raise RecordError("INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
    return obj


@router.post("/composite/sobjects")
async def collections_create(request: Request, version: str):
    org = org_of(request)
    records, all_or_none = _records_payload(await json_body(request))

    def apply(record):
        obj = _type_of(org, record)
        if any(k.lower() == "id" for k in record):
            raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"])
        return {"id": org.writer.create(obj, record), "created": True}

    results = _run_collection(org, records, all_or_none, apply)
    for r in results:
        r.pop("created", None)
    return results


@router.patch("/composite/sobjects")
async def collections_update(request: Request, version: str):
    org = org_of(request)
    records, all_or_none = _records_payload(await json_body(request))

    def apply(record):
        obj = _type_of(org, record)
        record_id = next((v for k, v in record.items() if k.lower() == "id"), None)
        if not record_id:
            raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
        return {"id": org.writer.update(obj, record_id, record), "created": False}

    results = _run_collection(org, records, all_or_none, apply)
    for r in results:
        r.pop("created", None)
    return results


@router.patch("/composite/sobjects/{sobject}/{field}")
async def collections_upsert(request: Request, version: str, sobject: str, field: str):
    org = org_of(request)
    obj = org.object(sobject)
    records, all_or_none = _records_payload(await json_body(request))
    ext = obj.lookup(field)
    if ext is None:
        raise ApiError(400, "INVALID_FIELD", f"Field {field} does not exist on {obj.name}", [field])

    def apply(record):
        rec_obj = _type_of(org, record)
        if rec_obj is not obj:
            raise RecordError("INVALID_TYPE", f"Record type {rec_obj.name} does not match {obj.name}")
        if any(k.lower() == "id" for k in record) and ext.name != "Id":
            raise RecordError("INVALID_FIELD", "Id is not supported in upsert by external id", ["Id"])
        value = next((v for k, v in record.items() if k.lower() == ext.name.lower()), None)
        record_id, created = org.writer.upsert(obj, ext.name, value, record)
        return {"id": record_id, "created": created}

    return _run_collection(org, records, all_or_none, apply)


@router.delete("/composite/sobjects")
def collections_delete(request: Request, version: str, ids: str = "", allOrNone: str = "false"):  # noqa: N803
    org = org_of(request)
    id_list = [i.strip() for i in ids.split(",") if i.strip()]
    if len(id_list) > MAX_COLLECTION:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", f"cannot delete more than {MAX_COLLECTION} records")

    def apply(record_id):
        obj = next((o for o in org.objects.values() if record_id.startswith(o.key_prefix)), None)
        if obj is None:
            raise RecordError("MALFORMED_ID", f"malformed id {record_id}", ["Id"])
        return {"id": org.writer.delete(obj, record_id), "created": False}

    results = _run_collection(org, id_list, allOrNone.lower() == "true", apply)
    for r in results:
        r.pop("created", None)
    return results


@router.get("/composite/sobjects/{sobject}")
def collections_retrieve(request: Request, version: str, sobject: str, ids: str = "", fields: str = ""):
    org = org_of(request)
    obj = org.object(sobject)
    names = [f.strip() for f in fields.split(",") if f.strip()] or None
    out = []
    for record_id in [i.strip() for i in ids.split(",") if i.strip()]:
        row = org.store.get(obj, to18(record_id)) if is_id(record_id) else None
        out.append(record_json(org, obj, row, version, names) if row else None)
    return out
