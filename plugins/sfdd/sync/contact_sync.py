"""The steps of a contact sync run, called by the thin @task wrappers in dags/contact_sync.py.

Each step takes and returns small JSON-able dicts (XCom carries paths and counts, never payloads) and
does its heavy imports inside the function, because dags/ imports this module at parse time.
"""

from __future__ import annotations

import logging
import os
from collections import Counter, deque
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

IMPORT_POOL = "dotdigital_imports"
# A chunk's valid contacts go to Dotdigital as imports of at most IMPORT_PART_SIZE, with IMPORTS_IN_FLIGHT
# submitted at a time: Dotdigital processes one part while the next is built and sent. The load task takes
# IMPORTS_IN_FLIGHT slots of the pool, so the pool's size is still the cap on active imports.
IMPORT_PART_SIZE = 12_500
_IN_FLIGHT_SETTING = os.environ.get("SFDD_IMPORTS_IN_FLIGHT", "2")
if not _IN_FLIGHT_SETTING.strip().isdigit() or int(_IN_FLIGHT_SETTING) < 1:
    raise ValueError(f"SFDD_IMPORTS_IN_FLIGHT must be a whole number of 1 or more, got {_IN_FLIGHT_SETTING!r}")
IMPORTS_IN_FLIGHT = int(_IN_FLIGHT_SETTING)
TAIL_POLL_FLOOR_SECONDS = 0.1
# Dotdigital refuses request bodies over 50 MB; a part whose body would pass this is sent in halves instead.
MAX_IMPORT_BODY_BYTES = 40 * 1024 * 1024
SALESFORCE_CONN_ID = os.environ.get("SFDD_SALESFORCE_CONN_ID", "salesforce_default")
DOTDIGITAL_CONN_ID = os.environ.get("SFDD_DOTDIGITAL_CONN_ID", "dotdigital_default")
MAPPINGS_DIR = Path(os.environ.get("SFDD_MAPPINGS_DIR",
                                   Path(__file__).resolve().parents[3] / "include" / "mappings"))


@dataclass(frozen=True)
class TaskRef:
    dag_id: str
    run_id: str
    task_id: str
    map_index: int


def task_ref() -> TaskRef:
    from airflow.sdk import get_current_context

    ti = get_current_context()["ti"]
    map_index = ti.map_index if ti.map_index is not None else -1
    return TaskRef(ti.dag_id, ti.run_id, ti.task_id, map_index)


@lru_cache(maxsize=32)
def mapping_for(name: str):
    from sfdd.mapping.loader import load_mappings

    return load_mappings(MAPPINGS_DIR)[name]


def _sf():
    from sfdd.hooks.salesforce import SalesforceApiHook

    return SalesforceApiHook(salesforce_conn_id=SALESFORCE_CONN_ID)


def _dd():
    from sfdd.hooks.dotdigital import DotdigitalHook

    return DotdigitalHook(http_conn_id=DOTDIGITAL_CONN_ID)


# --------------------------------------------------------------------------------------------- plan


def plan_window(name: str, context) -> dict:
    from sfdd.state import watermark
    from sfdd.sync.window import plan_window as plan

    mapping = mapping_for(name)
    params = context["params"]
    dag_run = context["dag_run"]
    window = plan(
        mode=params.get("mode", "delta"),
        watermark=watermark.read(name),
        interval_start=context.get("data_interval_start"),
        interval_end=context.get("data_interval_end"),
        run_after=dag_run.run_after,
        lookback=mapping.source.lookback,
        since=params.get("since"),
    )
    log.info("Window for %s: %s [%s, %s) — %s", name, window.mode, window.start or "beginning", window.end,
             window.reason)
    return {**window.to_xcom(), "dry_run": bool(params.get("dry_run", False))}


# ---------------------------------------------------------------------------------------- preflight


def preflight(name: str, window: dict) -> dict:
    return run_preflight(mapping_for(name), _sf(), _dd(), dry_run=window["dry_run"])


def run_preflight(mapping, sf, dd, *, dry_run: bool) -> dict:
    """Fail before anything is written when the mapping and either system disagree."""
    from airflow.sdk.exceptions import AirflowFailException

    from sfdd.mapping.preflight import check_against_datafields, check_against_describe, errors_only

    describe = sf.describe(mapping.source.object)
    problems = check_against_describe(mapping, describe, related=_related_describes(sf, mapping, describe))
    for warning in (p for p in problems if p not in errors_only(problems)):
        log.warning("Preflight warning for sync %s: %s", mapping.name, warning)
    if errors_only(problems):
        raise AirflowFailException(
            f"Preflight failed for sync {mapping.name!r} (Salesforce {mapping.source.object}): "
            + "; ".join(str(p) for p in errors_only(problems)))
    to_create, clashes = check_against_datafields(mapping, dd.list_data_fields())
    if clashes:
        raise AirflowFailException(
            f"Preflight failed for sync {mapping.name!r} (Dotdigital data fields): "
            + "; ".join(str(p) for p in clashes))
    created = []
    for field in to_create:
        if not dry_run:
            dd.create_data_field(field["name"], field["type"], visibility=field.get("visibility", "Private"),
                                 default=field.get("defaultValue"))
        created.append(field["name"])
    book_ids = []
    existing_books = {b["name"]: b["id"] for b in dd.list_address_books()}
    for book in mapping.target.address_books:
        if book in existing_books:
            book_ids.append(existing_books[book])
        elif dry_run:
            book_ids.append(None)
        else:
            book_ids.append(dd.get_or_create_address_book(book)["id"])
    log.info("Preflight ok for %s: %d data fields %s, address books %s", mapping.name, len(created),
             "to create (dry run)" if dry_run else "created",
             dict(zip(mapping.target.address_books, book_ids, strict=True)))
    return {"address_book_ids": book_ids, "datafields_created": created}


def _related_describes(sf, mapping, describe: dict) -> dict:
    """Describe the parent objects that dotted source fields (Account.Name) go through."""
    relationships = {f["relationshipName"]: f.get("referenceTo") or [] for f in describe.get("fields", [])
                     if f.get("relationshipName")}
    related = {}
    for source in mapping.source_fields():
        rel = source.split(".", 1)[0] if "." in source else None
        if rel and rel not in related and relationships.get(rel):
            related[rel] = sf.describe(relationships[rel][0])
    return related


# ------------------------------------------------------------------------------------------ extract


def _csv_to_table(path: Path, columns_hint: list[str]):
    """Bulk API CSV → Arrow table with every column kept as text (typing is the transform's job)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, newline="", encoding="utf-8") as fh:
        import csv

        header = next(csv.reader(fh), None) or columns_hint
    return pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )


def extract(name: str, window: dict, ref: TaskRef) -> list[dict]:
    import itertools
    import tempfile
    from concurrent.futures import Future, ThreadPoolExecutor

    import pyarrow as pa

    from sfdd import staging
    from sfdd.mapping.soql import build_query
    from sfdd.sync.window import Window

    mapping = mapping_for(name)
    win = Window.from_xcom(window)
    soql = build_query(mapping, win.start, win.end)
    include_deleted = win.mode == "delta" and mapping.source.deleted != "ignore"
    out = staging.run_root(ref.dag_id, ref.run_id) / "extract"
    columns = mapping.source_fields()
    chunks: list[dict] = []
    numbers = itertools.count()

    def stage(csv_path: Path) -> tuple[str, int]:
        """One page to one chunk file (runs on the single worker, so pages arrive in order)."""
        table = _csv_to_table(csv_path, columns)
        csv_path.unlink()
        if table.num_rows == 0:
            return "", 0
        return staging.write_parquet(table, out / f"chunk-{next(numbers):05d}.parquet"), table.num_rows

    # Each page is converted to Parquet in a worker thread while the next one downloads (both release the
    # GIL); at most two pages are on disk at a time, and chunks keep the pages' order.
    with tempfile.TemporaryDirectory(prefix="sfdd-extract-") as tmp, ThreadPoolExecutor(max_workers=1) as pool:
        pending: Future | None = None
        staged: list[tuple[str, int]] = []
        pages = _sf().iter_bulk_query_csv_files(soql, Path(tmp), include_deleted=include_deleted,
                                                max_records=mapping.chunk_size)
        for csv_path in pages:
            if pending is not None:
                staged.append(pending.result())
            pending = pool.submit(stage, Path(csv_path))
        if pending is not None:
            staged.append(pending.result())
    for path, rows in staged:
        if rows:
            chunks.append({"chunk": len(chunks), "path": path, "rows": rows})
    if not chunks:
        # An empty window still flows through transform → load → reconcile so the run records zeros.
        empty = pa.table({c: pa.array([], type=pa.string()) for c in columns})
        chunks.append({"chunk": 0, "path": staging.write_parquet(empty, out / "chunk-00000.parquet"), "rows": 0})
    owners = _extract_precedence_owners(mapping, out, chunks)
    for chunk in chunks:
        chunk["owners_path"] = owners
    log.info("Extracted %d records of %s in %d chunk(s)%s", sum(c["rows"] for c in chunks),
             mapping.source.object, len(chunks), " incl. deleted" if include_deleted else "")
    return chunks


# Up to this many extracted records, owners are looked up by their emails (REST, 100 per query) instead of
# reading every owner email with a Bulk query: a small delta then costs calls in proportion to its size.
OWNER_LOOKUP_BY_KEY_MAX = 1000
OWNER_KEYS_PER_QUERY = 100


def _extract_precedence_owners(mapping, out, chunks: list[dict]) -> str | None:
    """For a mapping that defers to another object (Leads defer to Contacts), read that object's match keys."""
    import tempfile

    import pyarrow as pa

    from sfdd import staging
    from sfdd.mapping.soql import build_owner_query

    soql = build_owner_query(mapping)
    if not soql:
        return None
    defer = mapping.precedence.defer_to
    keys: set[str] = set()
    wanted = _keys_in_chunks(mapping, chunks) if sum(c["rows"] for c in chunks) <= OWNER_LOOKUP_BY_KEY_MAX else None
    if wanted is not None:
        sf = _sf()
        ordered = sorted(wanted)
        for start in range(0, len(ordered), OWNER_KEYS_PER_QUERY):
            quoted = ", ".join(f"'{k}'" for k in ordered[start:start + OWNER_KEYS_PER_QUERY])
            query = f"SELECT {defer.match_on} FROM {defer.object} WHERE {defer.match_on} IN ({quoted})"
            keys.update(r[defer.match_on] for r in sf.query_all_iter(query) if r.get(defer.match_on))
    else:
        with tempfile.TemporaryDirectory(prefix="sfdd-owners-") as tmp:
            for csv_path in _sf().bulk_query_to_csv_files(soql, Path(tmp), max_records=200_000):
                table = _csv_to_table(Path(csv_path), [defer.match_on])
                keys.update(v for v in table.column(defer.match_on).to_pylist() if v)
    return staging.write_parquet(pa.table({"key": sorted(keys)}), out / "precedence-owners.parquet")


def _keys_in_chunks(mapping, chunks: list[dict]) -> set[str] | None:
    """The distinct emails of the extracted records, or None when one cannot be written as a SOQL literal."""
    from sfdd import staging

    keys: set[str] = set()
    for chunk in chunks:
        column = staging.read_parquet(chunk["path"]).get(mapping.target.email_field)
        if column is not None:
            keys.update(v.strip() for v in column.dropna() if v and v.strip())
    if any("'" in k or "\\" in k for k in keys):
        return None
    return keys


# ---------------------------------------------------------------------------------------- transform


def transform(name: str, chunk: dict, prepared: dict, ref: TaskRef) -> dict:
    from sfdd import staging
    from sfdd.state.ledger import Ledger
    from sfdd.transform.pipeline import transform_chunk

    mapping = mapping_for(name)
    frame = staging.read_parquet(chunk["path"])
    owners = staging.read_parquet(chunk["owners_path"])["key"] if chunk.get("owners_path") else None
    result = transform_chunk(frame, mapping, owned_identifiers=owners)
    valid = result.valid
    out = staging.run_root(ref.dag_id, ref.run_id) / "transform"
    index = chunk["chunk"]
    valid_path = staging.write_parquet(valid, out / f"valid-{index:05d}.parquet")
    deleted_path = staging.write_parquet(result.deleted, out / f"deleted-{index:05d}.parquet")
    # Skipped records are not rejects, but which rule skipped which record stays auditable.
    skipped_path = staging.write_parquet(result.skipped, out / f"skipped-{index:05d}.parquet")
    rejects = result.rejects
    Ledger().replace_rejects(
        sync_name=name, dag_id=ref.dag_id, run_id=ref.run_id, task_id=ref.task_id, map_index=ref.map_index,
        rows=({"sf_id": r.sf_id, "field": r.field, "error_code": r.error_code, "message": r.message,
               "payload_ref": chunk["path"], "payload_row": int(r.row), "retryable": False}
              for r in rejects.itertuples(index=False)),
    )
    counts = result.counts()
    summary = {
        "chunk": index,
        "source_path": chunk["path"],
        "valid_path": valid_path,
        "deleted_path": deleted_path,
        "skipped_path": skipped_path,
        "counts": {k: int(counts[k]) for k in ("read", "valid", "rejected", "skipped", "deleted")},
        "rejected_by_code": {k: int(v) for k, v in result.rejects_by_code().items()},
        "skipped_by_rule": {k: int(v) for k, v in result.skipped_by_rule().items()},
    }
    log.info("Chunk %d: %s", index, counts)
    return summary


# --------------------------------------------------------------------------------------------- load


def load(name: str, transformed: dict, prepared: dict, window: dict, ref: TaskRef) -> dict:
    from sfdd import staging
    from sfdd.state.ledger import Ledger
    from sfdd.transform.payload import to_v3_contacts

    mapping = mapping_for(name)
    chunk = transformed["chunk"]
    # The transform's figures travel on, so reconcile gets one record per chunk from the task group.
    result = {"chunk": chunk, "created": 0, "updated": 0, "failed": 0, "kept_suppressed": 0,
              "partially_written": 0, "deleted_removed": 0, "deleted_not_found": 0, "failed_by_code": {},
              "import_ids": [],
              "dry_run": bool(window["dry_run"]), "transform": transformed}
    valid = staging.read_parquet(transformed["valid_path"])
    deleted = staging.read_parquet(transformed["deleted_path"])
    if window["dry_run"]:
        result["would_import"] = int(len(valid))
        result["would_remove"] = int(len(deleted))
        return result
    dd = _dd()
    rejects: list[dict] = []
    in_flight: deque[tuple[int, int, str]] = deque()  # (first row, end row, import id), oldest first
    todo = deque((begin, min(begin + IMPORT_PART_SIZE, len(valid))) for begin in range(0, len(valid), IMPORT_PART_SIZE))
    while todo:
        begin, end = todo.popleft()
        contacts = to_v3_contacts(valid.iloc[begin:end], mapping, prepared["address_book_ids"])
        body = dd.contact_import_v3_body(contacts, merge_option=mapping.target.merge_option)
        if len(body) > MAX_IMPORT_BODY_BYTES and end - begin > 1:
            middle = (begin + end) // 2
            log.info("Chunk %d: rows %d-%d make a %d-byte import body; sending them in two halves", chunk,
                     begin, end - 1, len(body))
            todo.extendleft([(middle, end), (begin, middle)])
            continue
        import_id = dd.submit_contact_import_v3(body)
        result["import_ids"].append(import_id)
        log.info("Chunk %d: import %s started with %d contacts (rows %d-%d of %d)", chunk, import_id, len(contacts),
                 begin, end - 1, len(valid))
        in_flight.append((begin, end, import_id))
        if len(in_flight) >= IMPORTS_IN_FLIGHT:
            rejects.extend(_finish_import(dd, chunk, *in_flight.popleft(), valid, transformed, result))
    while in_flight:
        begin, end, import_id = in_flight.popleft()
        # The chunk's last import has nothing queued behind it at Dotdigital: look more often, so the next
        # chunk's first import follows it sooner.
        rejects.extend(_finish_import(dd, chunk, begin, end, import_id, valid, transformed, result,
                                      floor=None if in_flight else TAIL_POLL_FLOOR_SECONDS))
    if len(deleted) and mapping.source.deleted == "remove":
        removed, missing = _remove_deleted(dd, deleted, prepared["address_book_ids"])
        result["deleted_removed"], result["deleted_not_found"] = removed, missing
    Ledger().replace_rejects(sync_name=name, dag_id=ref.dag_id, run_id=ref.run_id, task_id=ref.task_id,
                             map_index=ref.map_index, rows=rejects)
    log.info("Chunk %d loaded: created=%d updated=%d failed=%d kept_suppressed=%d deleted_removed=%d",
             chunk, result["created"], result["updated"], result["failed"], result["kept_suppressed"],
             result["deleted_removed"])
    return result


def _finish_import(dd, chunk: int, begin: int, end: int, import_id: str, valid, transformed: dict, result: dict,
                   floor: float | None = None) -> list[dict]:
    """Wait for one part's import, add its figures to ``result`` and return its reject rows."""
    from airflow.sdk.exceptions import AirflowFailException

    from sfdd.hooks.dotdigital import DotdigitalImportError

    part = valid.iloc[begin:end]
    try:
        status = dd.wait_for_contact_import_v3(import_id, floor=floor)
    except DotdigitalImportError as exc:
        # A watchdog rejection or failed import will not pass on a retry of the same payload: fail now,
        # leave the watermark, and let an operator look at the import in Dotdigital.
        log.error("Chunk %d: Dotdigital import %s ended %s; none of its %d contacts were written", chunk,
                  import_id, exc.status, len(part))
        raise AirflowFailException(f"Dotdigital import of chunk {chunk} failed: {exc}") from exc
    counted = _count_import_result(status, part, transformed["source_path"])
    figures = counted["figures"]
    if figures["created"] + figures["updated"] + figures["failed"] != len(part):
        raise AirflowFailException(
            f"Dotdigital import {import_id} of chunk {chunk} accounted for "
            f"{figures['created'] + figures['updated'] + figures['failed']} of {len(part)} contacts")
    for key in ("created", "updated", "failed", "kept_suppressed", "partially_written"):
        result[key] = result.get(key, 0) + figures[key]
    result["failed_by_code"] = dict(Counter(result["failed_by_code"]) + Counter(figures["failed_by_code"]))
    return counted["rejects"]


# A written contact whose requested channel status Dotdigital refused to widen (it stays unsubscribed or
# suppressed): the sync counts it as "kept suppressed", not as a reject.
KEPT_SUPPRESSED_CODES = {"invalidContactStatus", "InvalidContactStatus"}


def _count_import_result(status: dict, valid, payload_ref: str) -> dict:
    """Turn a finished v3 import into figures and reject rows.

    A failure entry for a contact that was also created or updated is a note about part of it (a refused
    resubscribe, say), not a lost contact; only failures of contacts that were not written are rejects.
    """
    created, updated = status.get("created") or [], status.get("updated") or []
    failures = status.get("failures") or []
    # Both lookups are only needed for the (usually few) failures, so a clean import skips them.
    written = {c.get("contactId") for c in (*created, *updated)} - {None} if failures else set()
    by_identifier = _rows_for_failures(valid, failures) if failures else {}
    rejects, failed_by_code, kept, partial = [], Counter(), 0, 0
    for failure in failures:
        details = failure.get("failures") or [{"failureCode": "unknown"}]
        codes = [f.get("failureCode", "unknown") for f in details]
        if failure.get("contactId") in written:
            if set(codes) <= KEPT_SUPPRESSED_CODES:
                kept += 1
            else:
                partial += 1
            continue
        sf_id, row = by_identifier.get(_identifier_key(failure.get("identifiers") or {}), (None, None))
        failed_by_code[f"DOTDIGITAL_{codes[0]}"] += 1
        rejects.extend({"sf_id": sf_id, "field": failure.get("matchIdentifier"), "error_code": f"DOTDIGITAL_{code}",
                        "retryable": False, "message": detail.get("description", ""),
                        "payload_ref": payload_ref, "payload_row": row}
                       for code, detail in zip(codes, details, strict=True))
    return {"figures": {"created": len(created), "updated": len(updated), "failed": sum(failed_by_code.values()),
                        "kept_suppressed": kept, "partially_written": partial,
                        "failed_by_code": dict(failed_by_code)},
            "rejects": rejects}


def _identifier_key(identifiers: dict) -> tuple:
    email = (identifiers.get("email") or "").strip().lower()
    mobile = (identifiers.get("mobileNumber") or "").strip().lstrip("+")
    return (email, "") if email else ("", mobile)


def _rows_for_failures(valid, failures: list[dict]) -> dict:
    """_identifier_key -> (sf_id, source row) for the failing contacts only, found column-wise.

    A record is keyed by its email, or by its mobile number when it has no email, as the payload
    identified it; when two records share a key the later one wins, as in the payload.
    """
    wanted = {_identifier_key(f.get("identifiers") or {}) for f in failures}
    emails = {email for email, _ in wanted if email}
    mobiles = {mobile for email, mobile in wanted if not email and mobile}
    email_col = valid["email"].fillna("").str.strip().str.lower() if "email" in valid else None
    found = {}
    if emails and email_col is not None:
        hit = email_col.isin(emails).to_numpy()
        for sf_id, row, email in zip(valid["sf_id"][hit], valid["row"][hit], email_col[hit], strict=True):
            found[(email, "")] = (sf_id, int(row))
    if mobiles and "mobile_number" in valid:
        mobile_col = valid["mobile_number"].fillna("").str.strip().str.lstrip("+")
        hit = mobile_col.isin(mobiles)
        if email_col is not None:
            hit = hit & (email_col == "")
        hit = hit.to_numpy()
        for sf_id, row, mobile in zip(valid["sf_id"][hit], valid["row"][hit], mobile_col[hit], strict=True):
            found[("", mobile)] = (sf_id, int(row))
    return found


def _remove_deleted(dd, deleted, book_ids) -> tuple[int, int]:
    """Deleted Salesforce records leave the address book; contacts Dotdigital does not know are counted."""
    from sfdd.transform.payload import mobile_for_api

    contact_ids, missing = [], 0
    for kind, value in zip(deleted["match_identifier"], deleted["identifier"], strict=True):
        if not value or kind not in ("email", "mobile_number"):
            missing += 1
            continue
        ident = ("email", value) if kind == "email" else ("mobileNumber", mobile_for_api(value))
        contact = dd.get_contact(*ident)
        if contact is None:
            missing += 1
            continue
        contact_ids.append(int(contact["contactId"]))
    for book_id in book_ids:
        if contact_ids and book_id is not None:
            dd.remove_contacts_from_address_book(book_id, contact_ids)
    return len(contact_ids), missing


# ---------------------------------------------------------------------------------------- reconcile


def summarise(transformed: list[dict], loaded: list[dict]) -> dict:
    """Add up the chunk figures; pure so the arithmetic is unit-tested without Airflow."""
    totals = Counter()
    rejected_by_code, skipped_by_rule, failed_by_code = Counter(), Counter(), Counter()
    for t in transformed:
        totals.update(t["counts"])
        rejected_by_code.update(t["rejected_by_code"])
        skipped_by_rule.update(t["skipped_by_rule"])
    dry_run = any(x.get("dry_run") for x in loaded)
    for x in loaded:
        for key in ("created", "updated", "failed", "kept_suppressed", "deleted_removed", "deleted_not_found",
                    "would_import"):
            totals[key] += x.get(key, 0) or 0
        failed_by_code.update(x.get("failed_by_code") or {})
    rejected_by_code.update(failed_by_code)
    rejected_total = totals["rejected"] + totals["failed"]
    written = totals["would_import"] if dry_run else totals["created"] + totals["updated"]
    accounted = written + rejected_total + totals["skipped"] + totals["deleted"]
    return {
        "read": totals["read"], "valid": totals["valid"], "created": totals["created"],
        "updated": totals["updated"], "rejected": rejected_total, "rejected_by_code": dict(rejected_by_code),
        "skipped": totals["skipped"], "skipped_by_rule": dict(skipped_by_rule),
        "kept_suppressed": totals["kept_suppressed"], "deleted": totals["deleted"],
        "deleted_removed": totals["deleted_removed"], "deleted_not_found": totals["deleted_not_found"],
        "dry_run": dry_run, "would_import": totals["would_import"] if dry_run else None,
        "chunks": len(transformed), "accounted": accounted, "balanced": accounted == totals["read"],
    }


def format_summary(name: str, window: dict, s: dict) -> str:
    lines = [f"Contact sync {name!r} ({window['mode']}{', DRY RUN' if s['dry_run'] else ''}) "
             f"window [{window['start'] or 'beginning'}, {window['end']})"]
    rows = [("read", s["read"]), ("valid", s["valid"])]
    if s["dry_run"]:
        rows.append(("would import", s["would_import"]))
    else:
        rows += [("created", s["created"]), ("updated", s["updated"])]
    rows.append(("rejected", s["rejected"]))
    rows += [(f"  rejected {code}", n) for code, n in sorted(s["rejected_by_code"].items())]
    rows.append(("skipped by rule", s["skipped"]))
    rows += [(f"  skipped {rule}", n) for rule, n in sorted(s["skipped_by_rule"].items())]
    rows += [("kept suppressed", s["kept_suppressed"]), ("deleted", s["deleted"]),
             ("  removed from book", s["deleted_removed"]), ("  unknown to Dotdigital", s["deleted_not_found"]),
             ("balanced", "yes" if s["balanced"] else f"NO ({s['accounted']} accounted of {s['read']})")]
    width = max(len(k) for k, _ in rows)
    return "\n".join(lines + [f"  {k.ljust(width)}  {v}" for k, v in rows])


def reconcile(name: str, chunk_results: list[dict], window: dict, ref: TaskRef) -> dict:
    from airflow.sdk.exceptions import AirflowFailException

    from sfdd.state.ledger import Ledger

    mapping = mapping_for(name)
    summary = summarise([r["transform"] for r in chunk_results], chunk_results)
    summary["window"] = {k: window[k] for k in ("mode", "start", "end")}
    log.info("\n%s", format_summary(name, window, summary))
    rate = summary["rejected"] / summary["read"] if summary["read"] else 0.0
    summary["reject_rate"] = round(rate, 6)
    problems = []
    if not summary["balanced"]:
        problems.append(f"counts do not add up: read {summary['read']} but {summary['accounted']} accounted for")
    if rate > mapping.reject_threshold:
        problems.append(f"reject rate {rate:.2%} is above the mapping's threshold {mapping.reject_threshold:.2%}")
    Ledger().record_run(sync_name=name, dag_id=ref.dag_id, run_id=ref.run_id, ok=not problems, figures=summary)
    if problems:
        raise AirflowFailException(f"Reconcile failed for {name}: " + "; ".join(problems))
    return summary


def commit_watermark(name: str, summary: dict, window: dict, ref: TaskRef) -> dict:
    from sfdd.state import watermark
    from sfdd.sync.window import Window

    if window["dry_run"]:
        log.info("Dry run: watermark of %s left where it was", name)
        return {"moved": False, "dry_run": True}
    result = watermark.commit(name, Window.from_xcom(window).end, ref.run_id)
    log.info("Watermark of %s: %s → %s", name, result["previous"], result["committed"])
    return result
