"""Asynchronous contact imports (v2 CSV files and v3 JSON), processed by one background worker.

A submitted import is stored, then processed in slices so request threads are never blocked for
long; its status reads ``NotFinished`` until it is processed *and* its configured delay has passed.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import time
import uuid
from pathlib import Path

from sandbox.dotdigital import codec
from sandbox.dotdigital.contacts import EMAIL_TYPES, OPT_IN_TYPES, field_map, typed_fields, valid_email
from sandbox.dotdigital.faults import Faults
from sandbox.dotdigital.store import Store
from sandbox.dotdigital.writer import ContactWriter, failure, write_v2_row

log = logging.getLogger("sandbox.dotdigital.imports")
MAX_ACTIVE_IMPORTS = 25
SLICE = 2000
V2_COUNTERS = ("newContacts", "updatedContacts", "globallySuppressed", "invalidEntries", "duplicateEmails",
               "blocked", "unsubscribed", "hardBounced", "softBounced", "ispComplaints", "mailBlocked",
               "domainSuppressed", "pendingDoubleOptin", "failures", "suppressedContacts")


class ImportQueue:
    def __init__(self, store: Store, faults: Faults, delay: float):
        self.store = store
        self.faults = faults
        self.delay = delay
        self.wake = threading.Event()
        self.parsed: dict[str, object] = {}  # import id -> decoded body, until the worker takes it
        self.payload_dir = store.path.parent / "import-payloads"
        self.payload_dir.mkdir(parents=True, exist_ok=True)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="dotdigital-imports", daemon=True)
        with store.lock:
            store.db.execute("UPDATE imports SET ready_at = 0 WHERE status = 'NotFinished'")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()
        self.thread.join(timeout=10)

    def active_count(self) -> int:
        now = time.monotonic()
        row = self.store.one("SELECT COUNT(*) FROM imports WHERE status = 'NotFinished' OR ready_at > ?", (now,))
        return row[0]

    def submit(self, generation: str, payload: bytes, book_id: int | None = None,
               merge_option: str = "overwrite", parsed: object = None) -> str:
        """Store an import; ``parsed`` is the body the route already decoded, so the worker need not again
        (the payload file still serves an emulator restarted with imports pending).

        The payload goes to a file beside the database, not into it: a 25 MB body written into SQLite
        and cleared again cost more than processing a tenth of its contacts.
        """
        import_id = str(uuid.uuid4())
        if parsed is not None:
            self.parsed[import_id] = parsed
        self._payload_path(import_id).write_bytes(payload)
        delay = self.delay
        slow = self.faults.take_import("slow_import", generation)
        if slow:
            delay += float(slow.get("seconds", 5))
        forced = self.faults.take_import("import_status", generation)
        contact_rule = None if forced else self.faults.take_import("contact_failures", generation)
        now = time.monotonic()
        self.store.execute(
            "INSERT INTO imports (id, generation, status, submitted, ready_at, book_id, merge_option, payload, "
            "forced_status, failure_rule) VALUES (?, ?, 'NotFinished', ?, ?, ?, ?, ?, ?, ?)",
            (import_id, generation, now, now + delay, book_id, merge_option, None,
             forced["status"] if forced else None,
             json.dumps({k: v for k, v in contact_rule.items() if not k.startswith("_")}) if contact_rule else None))
        self.wake.set()
        return import_id

    def visible(self, import_id: str, generation: str):
        """The import row with the status a client may see now, or None."""
        row = self.store.one("SELECT id, status, ready_at, result, report, faults_csv FROM imports "
                             "WHERE id = ? AND generation = ?", (import_id, generation))
        if row is None:
            return None
        status = row["status"] if time.monotonic() >= row["ready_at"] else "NotFinished"
        return status, row

    def _run(self) -> None:
        while not self.stopping:
            row = self.store.one("SELECT id FROM imports WHERE status = 'NotFinished' ORDER BY submitted LIMIT 1")
            if row is None:
                self.wake.wait(0.5)
                self.wake.clear()
                continue
            try:
                self._process(row["id"])
            except Exception:  # a broken import must not kill the worker
                log.exception("import %s failed", row["id"])
                self.store.execute("UPDATE imports SET status = 'Failed', payload = NULL WHERE id = ?", (row["id"],))
            finally:
                self.parsed.pop(row["id"], None)
                self._payload_path(row["id"]).unlink(missing_ok=True)

    def _payload_path(self, import_id: str) -> Path:
        return self.payload_dir / f"{import_id}.body"

    def _payload(self, row) -> bytes:
        """The submitted body (older state folders kept it in the database)."""
        path = self._payload_path(row["id"])
        return path.read_bytes() if path.exists() else (row["payload"] or b"")

    def _process(self, import_id: str) -> None:
        row = self.store.one("SELECT * FROM imports WHERE id = ?", (import_id,))
        if row["forced_status"]:
            self.store.execute("UPDATE imports SET status = ?, payload = NULL, result = ?, report = ?, faults_csv = ? "
                               "WHERE id = ?", (row["forced_status"], json.dumps({}),
                                                json.dumps(dict.fromkeys(V2_COUNTERS, 0)), "Reason\r\n", import_id))
            return
        rule = json.loads(row["failure_rule"]) if row["failure_rule"] else None
        if row["generation"] == "v3":
            status, result = self._process_v3(row, rule)
            self.store.execute("UPDATE imports SET status = ?, payload = NULL, result = ? WHERE id = ?",
                               (status, codec.dumps(result), import_id))
        else:
            status, report, faults_csv = self._process_v2(row, rule)
            self.store.execute("UPDATE imports SET status = ?, payload = NULL, report = ?, faults_csv = ? "
                               "WHERE id = ?", (status, json.dumps(report), faults_csv, import_id))

    def _context(self):
        with self.store.lock:
            fields = field_map(self.store.db)
            books = {r[0] for r in self.store.db.execute("SELECT id FROM address_books")}
        return fields, books

    def _process_v3(self, row, rule) -> tuple[str, dict]:
        body = self.parsed.pop(row["id"], None) or codec.loads(self._payload(row))
        contacts = body["contacts"]
        merge = row["merge_option"]
        fields, books = self._context()
        writer = ContactWriter(None, self.store.now_iso(), fields, books)
        created, updated, failures = [], [], []
        summary = {"newContacts": 0, "updatedContacts": 0, "globallySuppressed": 0, "invalidEntries": 0,
                   "duplicateIdentifiers": 0}
        for start in range(0, len(contacts), SLICE):
            with self.store.transaction() as db:
                writer.db = db
                writer.prefetch(contacts[start:start + SLICE])
                for item in contacts[start:start + SLICE]:
                    forced = None
                    ident = _identity(item)
                    if rule and ident and self.faults.fails(rule, ident):
                        forced = failure(rule["failure_code"], rule["description"])
                    out = writer.write_v3(item, merge, forced)
                    ref = {"contactId": out.contact_id, "identifiers": out.identifiers}
                    if out.kind == "created":
                        created.append(ref)
                        summary["newContacts"] += 1
                    elif out.kind == "updated":
                        updated.append(ref)
                        summary["updatedContacts"] += 1
                    summary["duplicateIdentifiers"] += out.duplicate
                    summary["invalidEntries"] += out.invalid
                    if out.failures:
                        entry = {"matchIdentifier": str(item.get("matchIdentifier") or "email"),
                                 "identifiers": out.identifiers, "failures": out.failures}
                        if out.contact_id is not None:
                            entry["contactId"] = out.contact_id
                        failures.append(entry)
                writer.flush()
            time.sleep(0)
        result = {"summary": summary, "created": created, "updated": updated, "failures": failures}
        return "Finished", result

    def _process_v2(self, row, rule) -> tuple[str, dict, str]:
        text = self._payload(row).decode("utf-8-sig", errors="replace")
        reader = csv.reader(io.StringIO(text))
        header = next(reader, [])
        lowered = [h.strip().lower() for h in header]
        email_col = lowered.index("email")
        type_col = lowered.index("emailtype") if "emailtype" in lowered else None
        optin_col = lowered.index("optintype") if "optintype" in lowered else None
        fields, books = self._context()
        data_cols = [(i, header[i].strip()) for i, name in enumerate(lowered)
                     if name in fields and i not in (email_col, type_col, optin_col)]
        report = dict.fromkeys(V2_COUNTERS, 0)
        faults = io.StringIO()
        out = csv.writer(faults, lineterminator="\r\n")
        out.writerow(["Reason", *header])
        writer = ContactWriter(None, self.store.now_iso(), fields, books)
        seen: set[str] = set()
        rows = list(reader)
        for start in range(0, len(rows), SLICE):
            with self.store.transaction() as db:
                writer.db = db
                for values in rows[start:start + SLICE]:
                    if not any(v.strip() for v in values):
                        continue
                    values = values + [""] * (len(header) - len(values))
                    reason, counter = self._v2_row(writer, values, email_col, type_col, optin_col, data_cols,
                                                   row, rule, seen, report)
                    if reason:
                        report[counter] += 1
                        out.writerow([reason, *values])
        return "Finished", report, faults.getvalue()

    def _v2_row(self, writer, values, email_col, type_col, optin_col, data_cols, row, rule, seen, report):
        email = values[email_col].strip()
        if not valid_email(email):
            return "Invalid Entries", "invalidEntries"
        if email.lower() in seen:
            return "Duplicate", "duplicateEmails"
        seen.add(email.lower())
        if rule and self.faults.fails(rule, email):
            return rule.get("reason", "Failures"), "failures"
        email_type = EMAIL_TYPES.get(values[type_col].strip().lower()) if type_col is not None else None
        opt_in = OPT_IN_TYPES.get(values[optin_col].strip().lower()) if optin_col is not None else None
        raw = {name: (values[i] if values[i] != "" else "") for i, name in data_cols}
        data, errors = typed_fields({k: v for k, v in raw.items() if v != ""}, writer.fields)
        if errors:
            return "Invalid Entries", "invalidEntries"
        for name, value in raw.items():
            if value == "":
                data[writer.fields[name.lower()][0]] = ""
        kind, reason, counter = write_v2_row(writer, email, email_type, opt_in, data, row["merge_option"],
                                             row["book_id"])
        if kind == "created":
            report["newContacts"] += 1
            if opt_in == "VerifiedDouble":
                report["pendingDoubleOptin"] += 1
        elif kind == "updated":
            report["updatedContacts"] += 1
        return reason, counter


def _identity(item: dict) -> str | None:
    ids = item.get("identifiers") if isinstance(item, dict) else None
    if not isinstance(ids, dict):
        return None
    value = ids.get("email") or ids.get("mobileNumber") or ids.get("contactId")
    return str(value) if value is not None else None
