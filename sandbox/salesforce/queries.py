"""REST query/queryAll execution: pages of JSON records and server-side cursors for nextRecordsUrl.

A cursor keeps the compiled statement, not the rows; each page is read from SQLite when asked for.
Unordered queries page by rowid (keyset), so the 500th page of a million rows costs the same as the
first; ordered ones use LIMIT/OFFSET. Like Salesforce, a locator can be re-read while it exists.
"""

from __future__ import annotations

import secrets
import threading
import time

from sandbox.salesforce.errors import ApiError
from sandbox.salesforce.soql import Compiled, compile_soql
from sandbox.salesforce.store import Store

MAX_BATCH = 2000
MIN_BATCH = 200
CURSOR_TTL_SECONDS = 2 * 24 * 3600


def json_value(ftype: str, value):
    if value is None:
        return None
    if ftype == "boolean":
        return bool(value)
    if ftype in ("double", "currency", "percent"):
        return float(value)
    if ftype == "int":
        return int(value)
    return value


def record_builder(compiled: Compiled, version: str):
    """A function turning one SQL row into Salesforce's record JSON (attributes, nested parents)."""
    base = f"/services/data/v{version}/sobjects/"
    obj_name = compiled.obj.name
    plain = [(i + 1, c.field.name, c.field.type) for i, c in enumerate(compiled.columns) if c.relationship is None]
    n_cols = len(compiled.columns)
    rels = []
    for j, (rel_name, parent_type) in enumerate(compiled.relationships):
        cols = [(i + 1, c.field.name, c.field.type) for i, c in enumerate(compiled.columns)
                if c.relationship == rel_name]
        rels.append((rel_name, parent_type, 1 + n_cols + j, cols))
    id_pos = next((i for i, name, _ in plain if name == "Id"), None)

    def build(row: tuple) -> dict:
        rec_id = row[id_pos] if id_pos is not None else None
        record = {"attributes": {"type": obj_name, "url": f"{base}{obj_name}/{rec_id}" if rec_id else
                                 f"{base}{obj_name}"}}
        for pos, name, ftype in plain:
            record[name] = json_value(ftype, row[pos])
        for rel_name, parent_type, id_col, cols in rels:
            parent_id = row[id_col]
            if parent_id is None:
                record[rel_name] = None
                continue
            parent = {"attributes": {"type": parent_type, "url": f"{base}{parent_type}/{parent_id}"}}
            for pos, name, ftype in cols:
                parent[name] = json_value(ftype, row[pos])
            record[rel_name] = parent
        return record

    return build


class Cursors:
    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._cursors: dict[str, dict] = {}

    def start(self, soql: str, include_deleted: bool, batch_size: int, version: str) -> dict:
        compiled = compile_soql(soql, self.store.objects, self.store.clock.now())
        select_sql, count_sql = compiled.sql(include_deleted)
        total = self.store.reader().execute(count_sql, compiled.params).fetchone()[0]
        total = max(0, total - compiled.offset)
        if compiled.limit is not None:
            total = min(total, compiled.limit)
        if compiled.is_count:
            return {"totalSize": total, "done": True, "records": []}
        cursor = {"compiled": compiled, "include_deleted": include_deleted, "total": total, "keyset": {0: None},
                  "created": time.monotonic(), "version": version}
        locator = "01g" + secrets.token_hex(6).upper() + "X"
        with self._lock:
            self._expire()
            self._cursors[locator] = cursor
        return self.page(locator, 0, batch_size, version)

    def _expire(self) -> None:
        cutoff = time.monotonic() - CURSOR_TTL_SECONDS
        for key in [k for k, c in self._cursors.items() if c["created"] < cutoff]:
            del self._cursors[key]

    def page(self, locator: str, offset: int, batch_size: int, version: str) -> dict:
        with self._lock:
            cursor = self._cursors.get(locator)
        if cursor is None or offset > cursor["total"]:
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        compiled: Compiled = cursor["compiled"]
        size = min(batch_size, cursor["total"] - offset)
        keyset = cursor["keyset"]
        if not compiled.ordered and compiled.offset == 0 and offset in keyset:
            after = keyset[offset]
            sql, _ = compiled.sql(cursor["include_deleted"], after_rowid=after is not None)
            params = list(compiled.params) + ([after] if after is not None else [])
            rows = self.store.reader().execute(sql + " LIMIT ?", params + [size]).fetchall()
        else:
            sql, _ = compiled.sql(cursor["include_deleted"])
            rows = self.store.reader().execute(sql + " LIMIT ? OFFSET ?",
                                               list(compiled.params) + [size, compiled.offset + offset]).fetchall()
        build = record_builder(compiled, version)
        records = [build(r) for r in rows]
        next_offset = offset + len(rows)
        if rows:
            with self._lock:
                keyset[next_offset] = rows[-1][0]
        result = {"totalSize": cursor["total"], "done": next_offset >= cursor["total"] or not rows,
                  "records": records}
        if not result["done"]:
            result["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{next_offset}"
        return result


def batch_size_from_header(header: str | None) -> int:
    """``Sforce-Query-Options: batchSize=n`` (200..2000; Salesforce treats it as a hint)."""
    size = MAX_BATCH
    if header:
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key.strip().lower() == "batchsize" and value.strip().isdigit():
                size = int(value)
    return max(MIN_BATCH, min(MAX_BATCH, size))
