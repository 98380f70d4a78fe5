"""Bulk API 2.0 query and ingest jobs.

A query job runs its SOQL once on a worker thread and writes the result set to a CSV file plus a
sidecar of record start offsets, so any ``locator``/``maxRecords`` page is a byte range served
straight from disk with a header row prepended: memory stays flat for a million rows and a page
can be re-read. An ingest job stores the uploaded CSV and, after ``UploadComplete``, applies each row
through the same validation as the REST API, writing successful/failed/unprocessed result files.
"""

from __future__ import annotations

import base64
import csv
import io
import shutil
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sandbox.salesforce.errors import ApiError, RecordError
from sandbox.salesforce.faults import Faults
from sandbox.salesforce.ids import make_id
from sandbox.salesforce.soql import compile_soql
from sandbox.salesforce.store import Store
from sandbox.salesforce.writes import Writer

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
TERMINAL = {"JobComplete", "Failed", "Aborted"}
INGEST_OPERATIONS = {"insert", "update", "upsert", "delete", "hardDelete"}
USER_ID = "0054x0000000001AAA"
CHUNK = 256 * 1024


def encode_locator(index: int) -> str:
    return base64.b64encode(str(index).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int:
    try:
        return int(base64.b64decode(locator + "=" * (-len(locator) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}") from None


class _ByteSink:
    """csv.writer target whose ``write`` reports the encoded size, giving each record's byte offset."""

    def __init__(self, handle):
        self.handle = handle
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.parts.append(data)
        self.size += len(data)
        if self.size >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        self.handle.write(b"".join(self.parts))
        self.parts, self.size = [], 0


class BulkJobs:
    def __init__(self, store: Store, writer: Writer, faults: Faults, state_dir: Path):
        self.store = store
        self.writer = writer
        self.faults = faults
        self.root = Path(state_dir) / "salesforce-bulk"
        self.root.mkdir(parents=True, exist_ok=True)
        self.jobs: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._seq = 0

    # -- common -------------------------------------------------------------------------------------
    def _new_job(self, kind: str, body: dict, version: str) -> dict:
        with self._lock:
            self._seq += 1
            job_id = make_id("750", self._seq + int(time.time()) % 100000 * 1000)
        now = self.store.now_text()
        delimiter = body.get("columnDelimiter") or "COMMA"
        line_ending = body.get("lineEnding") or "LF"
        if delimiter not in DELIMITERS:
            raise ApiError(400, "INVALIDJOB", f"Invalid column delimiter: {delimiter}")
        if line_ending not in LINE_ENDINGS:
            raise ApiError(400, "INVALIDJOB", f"Invalid line ending: {line_ending}")
        if (body.get("contentType") or "CSV") != "CSV":
            raise ApiError(400, "INVALIDJOB", "Only CSV content type is supported")
        job = {"id": job_id, "operation": body.get("operation"), "object": None, "createdById": USER_ID,
               "createdDate": now, "systemModstamp": now, "state": "Open", "concurrencyMode": "Parallel",
               "contentType": "CSV", "apiVersion": float(version), "lineEnding": line_ending,
               "columnDelimiter": delimiter, "jobType": kind, "numberRecordsProcessed": 0, "retries": 0,
               "totalProcessingTime": 0}
        (self.root / job_id).mkdir()
        return job

    def get(self, job_id: str, kind: str) -> dict:
        job = self.jobs.get(job_id)
        if job is None or job["jobType"] != kind:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def info(self, job: dict) -> dict:
        return {k: v for k, v in job.items() if not k.startswith("_")}

    def list(self, kind: str) -> dict:
        return {"done": True, "records": [self.info(j) for j in self.jobs.values() if j["jobType"] == kind],
                "nextRecordsUrl": None}

    def _set_state(self, job: dict, state: str, error: str | None = None) -> None:
        job["state"] = state
        job["systemModstamp"] = self.store.now_text()
        if error:
            job["errorMessage"] = error

    def patch_state(self, job: dict, body: dict) -> dict:
        state = body.get("state")
        if state == "Aborted":
            if job["state"] in TERMINAL:
                raise ApiError(400, "INVALIDJOBSTATE", f"Job is already {job['state']}")
            job["_abort"] = True
            self._set_state(job, "Aborted")
            return self.info(job)
        if state == "UploadComplete" and job["jobType"] == "V2Ingest":
            if job["state"] != "Open":
                raise ApiError(400, "INVALIDJOBSTATE", f"Job state is {job['state']}, expected Open")
            self._set_state(job, "UploadComplete")
            closed = self.info(job)
            self._start(job, self._run_ingest)
            return closed
        raise ApiError(400, "INVALIDJOBSTATE", f"Invalid state change to {state!r}")

    def delete(self, job: dict) -> None:
        if job["state"] not in TERMINAL and not (job["jobType"] == "V2Ingest" and job["state"] == "Open"):
            raise ApiError(400, "API_ERROR", "Error encountered when deleting the job because the job is not "
                           "terminated")
        with self._lock:
            self.jobs.pop(job["id"], None)
        shutil.rmtree(self.root / job["id"], ignore_errors=True)

    def _start(self, job: dict, target) -> None:
        path = f"/jobs/{'query' if job['jobType'] == 'V2Query' else 'ingest'}/{job['object']}"
        if self.faults.fire("bulk_job_stuck", path):
            self._set_state(job, "InProgress")
            return
        fail = self.faults.fire("bulk_job_fail", path)
        if fail:
            self._set_state(job, "Failed", "InternalServerError : emulator fault injection (bulk_job_fail)")
            return
        threading.Thread(target=self._guard, args=(job, target), daemon=True, name=f"bulk-{job['id']}").start()

    def _guard(self, job: dict, target) -> None:
        started = time.monotonic()
        try:
            self._set_state(job, "InProgress")
            target(job)
            if job["state"] != "Aborted":
                self._set_state(job, "JobComplete")
        except ApiError as exc:
            self._set_state(job, "Failed", f"{exc.code} : {exc.message}")
        except Exception as exc:  # a crashed job must surface as Failed, like Salesforce's
            self._set_state(job, "Failed", f"InternalServerError : {type(exc).__name__}: {exc}")
        finally:
            elapsed = int((time.monotonic() - started) * 1000)
            job["totalProcessingTime"] = job["apiActiveProcessingTime"] = elapsed

    # -- query --------------------------------------------------------------------------------------
    def create_query(self, body: dict, version: str) -> dict:
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise ApiError(400, "INVALIDJOB", f"Invalid operation: {operation}")
        soql = body.get("query")
        if not soql:
            raise ApiError(400, "INVALIDJOB", "query is required")
        compiled = compile_soql(soql, self.store.objects, self.store.clock.now())
        if compiled.is_count:
            raise ApiError(400, "INVALIDJOB", "Aggregate queries are not supported by Bulk API 2.0")
        job = self._new_job("V2Query", body, version)
        job.update({"object": compiled.obj.name, "state": "UploadComplete", "_compiled": compiled,
                    "_records": 0, "isPkChunkingSupported": True})
        self.jobs[job["id"]] = job
        created = self.info(job)  # the create response shows the queued state, whatever the worker does next
        self._start(job, self._run_query)
        return created

    def _run_query(self, job: dict) -> None:
        compiled = job["_compiled"]
        select_sql = compiled.bulk_sql(job["operation"] == "queryAll")
        params = list(compiled.params)
        if compiled.limit is not None or compiled.offset:
            select_sql += " LIMIT ? OFFSET ?"
            params += [compiled.limit if compiled.limit is not None else -1, compiled.offset]
        folder = self.root / job["id"]
        conn = self.store.new_reader()
        count = 0
        try:
            with open(folder / "results.csv", "wb") as data, open(folder / "offsets.bin", "wb") as offsets:
                sink = _ByteSink(data)
                out = csv.writer(sink, delimiter=DELIMITERS[job["columnDelimiter"]],
                                 lineterminator=LINE_ENDINGS[job["lineEnding"]], quoting=csv.QUOTE_ALL)
                header = io.StringIO()
                csv.writer(header, delimiter=DELIMITERS[job["columnDelimiter"]],
                           lineterminator=LINE_ENDINGS[job["lineEnding"]], quoting=csv.QUOTE_ALL).writerow(
                    [c.label for c in compiled.columns])
                (folder / "header.csv").write_bytes(header.getvalue().encode())
                position = 0
                offset_buf = []
                cur = conn.execute(select_sql, params)
                while True:
                    rows = cur.fetchmany(5000)
                    if not rows or job.get("_abort"):
                        break
                    for row in rows:
                        offset_buf.append(position)
                        position += out.writerow(row)
                    count += len(rows)
                    offsets.write(struct.pack(f"<{len(offset_buf)}Q", *offset_buf))
                    offset_buf = []
                    job["numberRecordsProcessed"] = count
                sink.flush()
                offsets.write(struct.pack("<Q", position))
        finally:
            conn.close()
        job["_records"] = count
        job["numberRecordsProcessed"] = count

    def query_results(self, job: dict, locator: str | None, max_records: int | None, version: str):
        if float(version) != job["apiVersion"]:
            raise ApiError(409, "API_VERSION_MISMATCH", f"Job was created with API version {job['apiVersion']}; "
                           f"results must be requested with the same version")
        if job["state"] != "JobComplete":
            raise ApiError(412 if job["state"] != "Failed" else 400, "JOB_NOT_COMPLETE",
                           "can only download query results of successfully completed bulk job with status: "
                           f"JOB_COMPLETE. Current status: {job['state'].upper()}")
        total = job["_records"]
        start = decode_locator(locator) if locator else 0
        if start > total:
            raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
        count = total - start if not max_records else min(max_records, total - start)
        end = start + count
        folder = self.root / job["id"]
        with open(folder / "offsets.bin", "rb") as offsets:
            offsets.seek(start * 8)
            begin = struct.unpack("<Q", offsets.read(8))[0]
            offsets.seek(end * 8)
            finish = struct.unpack("<Q", offsets.read(8))[0]
        header = (folder / "header.csv").read_bytes()
        next_locator = encode_locator(end) if end < total else "null"
        return count, next_locator, _stream(header, folder / "results.csv", begin, finish)

    # -- ingest -------------------------------------------------------------------------------------
    def create_ingest(self, body: dict, version: str) -> dict:
        operation = body.get("operation")
        if operation not in INGEST_OPERATIONS:
            raise ApiError(400, "INVALIDJOB", f"Invalid operation: {operation}")
        obj_name = body.get("object")
        obj = next((o for o in self.store.objects.values() if o.name.lower() == str(obj_name).lower()), None)
        if obj is None:
            raise ApiError(400, "INVALIDJOB", f"Entity '{obj_name}' is not supported by the Bulk API.")
        ext = body.get("externalIdFieldName")
        if operation == "upsert":
            if not ext:
                raise ApiError(400, "INVALIDJOB", "External ID was blank for upsert")
            if obj.lookup(ext) is None:
                raise ApiError(400, "INVALIDJOB", f"Invalid field for upsert, must be an External Id custom or "
                               f"standard indexed field: {ext}")
        job = self._new_job("V2Ingest", body, version)
        job.update({"object": obj.name, "externalIdFieldName": ext or ("Id" if operation == "upsert" else None),
                    "numberRecordsFailed": 0, "apexProcessingTime": 0, "apiActiveProcessingTime": 0,
                    "contentUrl": f"services/data/v{version}/jobs/ingest/{job['id']}/batches"})
        if not ext:
            job.pop("externalIdFieldName")
        self.jobs[job["id"]] = job
        return self.info(job)

    def upload(self, job: dict, data: bytes) -> None:
        if job["state"] != "Open":
            raise ApiError(400, "INVALIDJOBSTATE", f"Job state is {job['state']}; data can only be uploaded "
                           "while the job is Open")
        path = self.root / job["id"] / "upload.csv"
        if path.exists():
            raise ApiError(400, "INVALIDJOBSTATE", "Found multiple contents for job. Please upload job data "
                           "only once.")
        path.write_bytes(data)

    def _run_ingest(self, job: dict) -> None:
        folder = self.root / job["id"]
        upload = folder / "upload.csv"
        delimiter = DELIMITERS[job["columnDelimiter"]]
        obj = self.store.objects[job["object"]]
        op = job["operation"]
        text = upload.read_text(encoding="utf-8-sig") if upload.exists() else ""
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = next(reader, None) or []
        with open(folder / "successfulResults.csv", "w", newline="", encoding="utf-8") as ok_file, \
                open(folder / "failedResults.csv", "w", newline="", encoding="utf-8") as bad_file, \
                open(folder / "unprocessedrecords.csv", "w", newline="", encoding="utf-8") as rest_file:
            ok = csv.writer(ok_file, lineterminator="\n")
            bad = csv.writer(bad_file, lineterminator="\n")
            rest = csv.writer(rest_file, lineterminator="\n")
            ok_file.write('"sf__Id","sf__Created"' + ("," if header else "") + _line(header))
            bad_file.write('"sf__Id","sf__Error"' + ("," if header else "") + _line(header))
            rest.writerow(header)
            unknown = [h for h in header if obj.lookup(h) is None]
            if unknown or (op in ("delete", "hardDelete") and [h.lower() for h in header] != ["id"]):
                for row in reader:
                    rest.writerow(row)
                message = (f"InvalidBatch : Field name not found : {unknown[0]}" if unknown else
                           "InvalidBatch : The 'delete' batch must contain only ids")
                raise ApiError(400, "InvalidBatch", message.split(" : ", 1)[1])
            processed = failed = 0
            for row in reader:
                if job.get("_abort"):
                    rest.writerow(row)
                    continue
                processed += 1
                try:
                    if len(row) != len(header):
                        raise RecordError("INVALID_FIELD", "Row has a different number of columns than the header")
                    body = dict(zip(header, row, strict=True))
                    with self.writer.transaction():
                        record_id, created = self._apply(job, obj, op, body)
                    ok.writerow([record_id, "true" if created else "false", *row])
                except RecordError as exc:
                    failed += 1
                    row_id = next((v for h, v in zip(header, row, strict=False) if h.lower() == "id"), "")
                    bad.writerow([row_id, exc.as_bulk_text(), *row])
                job["numberRecordsProcessed"] = processed
                job["numberRecordsFailed"] = failed

    def _apply(self, job: dict, obj, op: str, body: dict) -> tuple[str, bool]:
        if op == "insert":
            return self.writer.create(obj, body, csv=True), True
        if op == "update":
            return self.writer.update(obj, _pop_id(body), body, csv=True), False
        if op == "upsert":
            ext = job["externalIdFieldName"]
            value = next((v for k, v in body.items() if k.lower() == ext.lower()), "")
            return self.writer.upsert(obj, ext, value, body, csv=True)
        if op == "delete":
            return self.writer.delete(obj, _pop_id(body)), False
        record_id = self.writer.delete(obj, _pop_id(body))
        self.store.writer.execute(f'DELETE FROM "{obj.name}" WHERE Id = ?', (record_id,))
        return record_id, False

    def ingest_results(self, job: dict, which: str) -> Path:
        if which != "unprocessedrecords" and job["state"] not in ("JobComplete", "Failed"):
            raise ApiError(400, "INVALIDJOBSTATE", f"Job state is {job['state']}; results are available once the "
                           "job is JobComplete or Failed")
        path = self.root / job["id"] / f"{which}.csv"
        if not path.exists():
            upload = self.root / job["id"] / "upload.csv"
            if which == "unprocessedrecords" and upload.exists():
                return upload
            path.write_text("" if which == "unprocessedrecords" else
                            ('"sf__Id","sf__Created"\n' if which == "successfulResults" else '"sf__Id","sf__Error"\n'))
        return path


def _pop_id(body: dict) -> str:
    for key in list(body):
        if key.lower() == "id":
            return body.pop(key)
    raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])


def _line(values: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue() if values else "\n"


def _stream(header: bytes, path: Path, begin: int, finish: int) -> Iterator[bytes]:
    yield header
    remaining = finish - begin
    with open(path, "rb") as handle:
        handle.seek(begin)
        while remaining > 0:
            data = handle.read(min(CHUNK * 4, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data

