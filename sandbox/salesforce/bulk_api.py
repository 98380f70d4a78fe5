"""Bulk API 2.0 resources under ``/services/data/vXX.X/jobs/``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from sandbox.salesforce.errors import ApiError
from sandbox.salesforce.rest_api import json_body, org_of

router = APIRouter(prefix="/services/data/v{version}/jobs")
CSV_TYPE = "text/csv; charset=UTF-8"


def _dict_body(body) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "Expected a JSON object")
    return body


# -- query jobs -------------------------------------------------------------------------------------
@router.post("/query")
async def create_query_job(request: Request, version: str):
    body = _dict_body(await json_body(request))
    return org_of(request).bulk.create_query(body, version)


@router.get("/query")
def list_query_jobs(request: Request, version: str):
    return org_of(request).bulk.list("V2Query")


@router.get("/query/{job_id}")
def get_query_job(request: Request, version: str, job_id: str):
    bulk = org_of(request).bulk
    return bulk.info(bulk.get(job_id, "V2Query"))


@router.patch("/query/{job_id}")
async def patch_query_job(request: Request, version: str, job_id: str):
    bulk = org_of(request).bulk
    return bulk.patch_state(bulk.get(job_id, "V2Query"), _dict_body(await json_body(request)))


@router.delete("/query/{job_id}")
def delete_query_job(request: Request, version: str, job_id: str):
    bulk = org_of(request).bulk
    bulk.delete(bulk.get(job_id, "V2Query"))
    return Response(status_code=204)


@router.get("/query/{job_id}/results")
def query_job_results(request: Request, version: str, job_id: str, locator: str | None = None,
                      maxRecords: int | None = None):  # noqa: N803 - Salesforce's parameter name
    bulk = org_of(request).bulk
    job = bulk.get(job_id, "V2Query")
    if maxRecords is not None and maxRecords <= 0:
        raise ApiError(400, "INVALIDMAXRECORDS", "maxRecords must be a positive integer")
    count, next_locator, body = bulk.query_results(job, locator if locator not in (None, "", "null") else None,
                                                   maxRecords, version)
    return StreamingResponse(body, media_type=CSV_TYPE, headers={
        "Sforce-NumberOfRecords": str(count), "Sforce-Locator": next_locator})


# -- ingest jobs ------------------------------------------------------------------------------------
@router.post("/ingest")
async def create_ingest_job(request: Request, version: str):
    body = _dict_body(await json_body(request))
    return JSONResponse(org_of(request).bulk.create_ingest(body, version), status_code=200)


@router.get("/ingest")
def list_ingest_jobs(request: Request, version: str):
    return org_of(request).bulk.list("V2Ingest")


@router.get("/ingest/{job_id}")
def get_ingest_job(request: Request, version: str, job_id: str):
    bulk = org_of(request).bulk
    return bulk.info(bulk.get(job_id, "V2Ingest"))


@router.put("/ingest/{job_id}/batches")
async def upload_ingest_data(request: Request, version: str, job_id: str):
    bulk = org_of(request).bulk
    job = bulk.get(job_id, "V2Ingest")
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("text/csv"):
        raise ApiError(400, "INVALIDCONTENTTYPE", f"Content type {ctype or 'none'} is not supported; use text/csv")
    bulk.upload(job, await request.body())
    return Response(status_code=201)


@router.patch("/ingest/{job_id}")
async def patch_ingest_job(request: Request, version: str, job_id: str):
    bulk = org_of(request).bulk
    return bulk.patch_state(bulk.get(job_id, "V2Ingest"), _dict_body(await json_body(request)))


@router.delete("/ingest/{job_id}")
def delete_ingest_job(request: Request, version: str, job_id: str):
    bulk = org_of(request).bulk
    bulk.delete(bulk.get(job_id, "V2Ingest"))
    return Response(status_code=204)


def _results(request: Request, job_id: str, which: str):
    bulk = org_of(request).bulk
    return FileResponse(bulk.ingest_results(bulk.get(job_id, "V2Ingest"), which), media_type=CSV_TYPE)


@router.get("/ingest/{job_id}/successfulResults")
def successful_results(request: Request, version: str, job_id: str):
    return _results(request, job_id, "successfulResults")


@router.get("/ingest/{job_id}/failedResults")
def failed_results(request: Request, version: str, job_id: str):
    return _results(request, job_id, "failedResults")


@router.get("/ingest/{job_id}/unprocessedrecords")
@router.get("/ingest/{job_id}/unprocessedRecords")
def unprocessed_records(request: Request, version: str, job_id: str):
    return _results(request, job_id, "unprocessedrecords")
