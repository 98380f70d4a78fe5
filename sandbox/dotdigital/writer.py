"""Applies one contact write (v3 import item, v3 PATCH, v2 CSV row) to the store, with Dotdigital's rules.

The caller holds a transaction; the writer returns what happened so imports can build their reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.dotdigital import codec
from sandbox.dotdigital.contacts import (
    EMAIL_TYPES,
    MARKETABLE,
    OPT_IN_TYPES,
    RESUBSCRIBABLE,
    merge_data,
    normal_mobile,
    typed_fields,
    valid_email,
)

JOIN_LIST = "INSERT OR IGNORE INTO book_members (book_id, contact_id, status) VALUES (?, ?, ?)"
SUPPRESSION_REASON = {"unsubscribed": "Unsubscribed", "suppressed": "Suppressed", "hardBounced": "HardBounced",
                      "softBounced": "SoftBounced", "ispComplained": "IspComplained"}


@dataclass
class Outcome:
    kind: str  # created | updated | failed
    contact_id: int | None = None
    identifiers: dict = field(default_factory=dict)
    failures: list[dict] = field(default_factory=list)
    duplicate: bool = False
    invalid: bool = False


def suppress(db, contact_id: int, email_status: str, at: str, book_id: int | None = None) -> None:
    """Record an email unsubscribe/suppression so the since-date feeds list it."""
    reason = SUPPRESSION_REASON.get(email_status, "Suppressed")
    if book_id is None:
        db.execute("UPDATE contacts SET email_status = ?, updated = ? WHERE id = ?", (email_status, at, contact_id))
    db.execute("INSERT INTO suppressions (contact_id, book_id, reason, date_removed) VALUES (?, ?, ?, ?)",
               (contact_id, book_id, reason, at))


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _nocase(text: str) -> str:
    """The key SQLite's NOCASE collation compares (ASCII letters folded only), for the prefetched lookups."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def failure(code: str, description: str) -> dict:
    return {"failureCode": code, "description": description}


class ContactWriter:
    def __init__(self, db, now: str, fields: dict, book_ids: set[int]):
        self.db = db
        self.now = now
        # Also keyed by each field's name as created, so the usual upper-case keys match without lower().
        self.fields = {**fields, **{known[0]: known for known in fields.values()}}
        self.book_ids = book_ids
        self.seen: set[tuple[str, str]] = set()
        self.prefetched: dict[tuple[str, str], object] = {}
        self.written: set[int] = set()
        self.pending_members: list[tuple] | None = None

    def prefetch(self, items: list) -> None:
        """Look up a slice's email and mobile identifiers in two queries instead of two per contact.

        Only valid inside the caller's transaction; a contact written since is looked up again.
        """
        self.prefetched = {}
        self.written = set()
        self.pending_members = []
        emails, mobiles = set(), set()
        for item in items:
            ids = item.get("identifiers") if isinstance(item, dict) else None
            if not isinstance(ids, dict):
                continue
            if isinstance(ids.get("email"), str):
                emails.add(ids["email"])
            mobile = normal_mobile(ids.get("mobileNumber"))
            if mobile is not None:
                mobiles.add(mobile)
        for kind, column, values in (("email", "email", emails), ("mobileNumber", "mobile", mobiles)):
            for key in values:
                self.prefetched[(kind, _nocase(key) if kind == "email" else key)] = None
            values = list(values)
            for start in range(0, len(values), 500):
                batch = values[start:start + 500]
                marks = ",".join("?" * len(batch))
                for row in self.db.execute(f"SELECT * FROM contacts WHERE {column} IN ({marks})", batch):
                    key = _nocase(row[column]) if kind == "email" else row[column]
                    self.prefetched[(kind, key)] = row

    def find(self, kind: str, value) -> object:
        if kind in ("email", "mobileNumber") and isinstance(value, str):
            key = (kind, _nocase(value) if kind == "email" else value)
            if key in self.prefetched:
                row = self.prefetched[key]
                if row is None or row["id"] not in self.written:
                    return row
        if kind == "email":
            return self.db.execute("SELECT * FROM contacts WHERE email = ?", (value,)).fetchone()
        if kind == "mobileNumber":
            return self.db.execute("SELECT * FROM contacts WHERE mobile = ?", (value,)).fetchone()
        return self.db.execute("SELECT * FROM contacts WHERE id = ?", (value,)).fetchone()

    def write_v3(self, item: dict, merge: str, forced_failure: dict | None = None) -> Outcome:
        match = item.get("matchIdentifier")
        ids = item.get("identifiers") if isinstance(item.get("identifiers"), dict) else {}
        shown = {k: v for k, v in ids.items() if k in ("email", "mobileNumber")}
        out = Outcome("failed", identifiers=shown)
        if match not in ("email", "mobileNumber", "contactId"):
            out.failures.append(failure("invalidMatchIdentifier", f"Invalid match identifier '{match}'"))
            return out
        email = ids.get("email")
        mobile_raw = ids.get("mobileNumber")
        if ids.get(match) in (None, ""):
            out.invalid = True
            out.failures.append(failure("noValidIdentifiers", f"No value for the match identifier '{match}'"))
            return out
        if email is not None and not valid_email(email):
            out.invalid = True
            out.failures.append(failure("invalidEmail", "Invalid value for 'email'"))
        mobile = None
        if mobile_raw is not None:
            mobile = normal_mobile(mobile_raw)
            if mobile is None:
                out.invalid = True
                out.failures.append(failure("invalidPhoneNumber", "Invalid value for 'mobileNumber'"))
        if out.failures:
            return out
        for kind, value in (("email", email.lower() if email else None), ("mobileNumber", mobile)):
            if value is None:
                continue
            if (kind, value) in self.seen:
                out.duplicate = True
                out.failures.append(failure("duplicateIdentifier",
                                            f"Duplicate identifier detected for {kind} '{ids[kind]}'"))
                return out
        for kind, value in (("email", email.lower() if email else None), ("mobileNumber", mobile)):
            if value is not None:
                self.seen.add((kind, value))
        if forced_failure:
            out.failures.append(forced_failure)
            return out
        data, errors = typed_fields(item.get("dataFields") or {}, self.fields)
        if errors:
            out.failures.extend(failure("apiSchemaViolation", e) for e in errors)
            return out
        lists = item.get("lists") or []
        bad_lists = [b for b in lists if b not in self.book_ids]
        if bad_lists:
            out.failures.append(failure("invalidAddressBookIds", f"Unknown list ids {bad_lists}"))
            return out
        key = {"email": email, "mobileNumber": mobile, "contactId": ids.get("contactId")}[match]
        row = self.find(match, key)
        if row is None and match == "contactId":
            out.failures.append(failure("invalidContactId", f"No contact with id {key}"))
            return out
        for kind, value in (("email", email), ("mobileNumber", mobile)):
            if value is None or kind == match:
                continue
            other = self.find(kind, value)
            if other is not None and (row is None or other["id"] != row["id"]):
                out.failures.append(failure("duplicateIdentifier",
                                            f"The {kind} '{ids[kind]}' belongs to another contact"))
                return out
        channels = item.get("channelProperties") or {}
        return self._apply(row, email, mobile, data, merge, channels, lists, out)

    def _apply(self, row, email, mobile, data, merge, channels, lists, out: Outcome) -> Outcome:
        email_props = channels.get("email") or {}
        sms_props = channels.get("sms") or {}
        wanted_email = email_props.get("status")
        wanted_sms = sms_props.get("status")
        email_type = EMAIL_TYPES.get(str(email_props.get("emailType", "")).lower())
        opt_in = OPT_IN_TYPES.get(str(email_props.get("optInType", "")).lower())
        resubscribe = email_props.get("resubscribeOptions")
        notes: list[dict] = []
        if row is None:
            email_status = wanted_email or "subscribed"
            if opt_in == "VerifiedDouble" and email_status == "subscribed":
                email_status = "pendingOptIn"
            sms_status = wanted_sms or ("subscribed" if mobile else "noSubscription")
            cur = self.db.execute(
                "INSERT INTO contacts (email, mobile, email_status, sms_status, email_type, opt_in_type, data, "
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (email, mobile, email_status, sms_status, email_type or "Html", opt_in or "Unknown",
                 codec.dumps({k: v for k, v in data.items() if v is not None}), self.now, self.now))
            contact_id = cur.lastrowid
            if email and email_status not in MARKETABLE:
                suppress(self.db, contact_id, email_status, self.now)
            out.kind = "created"
        else:
            contact_id = row["id"]
            email_status = row["email_status"]
            new_email_status = email_status
            if wanted_email == "subscribed" and email_status not in MARKETABLE:
                if resubscribe is not None and email_status in RESUBSCRIBABLE:
                    no_challenge = resubscribe.get("resubscribeWithNoChallenge", True)
                    new_email_status = "subscribed" if no_challenge else "pendingOptIn"
                else:
                    notes.append(failure("invalidContactStatus",
                                         f"Contact is {email_status} for email; an import does not resubscribe"))
            elif wanted_email in ("unsubscribed", "suppressed") and email_status in MARKETABLE:
                new_email_status = wanted_email
            elif wanted_email == "subscribed" and email_status in ("noSubscription",):
                new_email_status = "subscribed"
            sms_status = row["sms_status"]
            new_sms = sms_status
            if wanted_sms == "subscribed" and (row["sms_opted_out"] or sms_status in ("unsubscribed", "suppressed")):
                notes.append(failure("invalidContactStatus",
                                     "SMS opt-outs can only be reversed by the contact, not through the API"))
            elif wanted_sms:
                new_sms = wanted_sms
            merged = merge_data(codec.loads(row["data"]), data, merge)
            self.db.execute(
                "UPDATE contacts SET email = COALESCE(?, email), mobile = COALESCE(?, mobile), email_status = ?, "
                "sms_status = ?, email_type = COALESCE(?, email_type), opt_in_type = COALESCE(?, opt_in_type), "
                "data = ?, updated = ? WHERE id = ?",
                (email, mobile, new_email_status, new_sms, email_type, opt_in, codec.dumps(merged), self.now,
                 contact_id))
            if new_email_status != email_status and new_email_status not in MARKETABLE:
                suppress(self.db, contact_id, new_email_status, self.now)
            out.kind = "updated"
        self._join_lists(contact_id, lists)
        self.written.add(contact_id)
        out.contact_id = contact_id
        out.failures.extend(notes)
        out.identifiers = {k: v for k, v in (("email", email), ("mobileNumber", mobile)) if v}
        return out

    def _join_lists(self, contact_id: int, lists: list[int]) -> None:
        rows = [(book_id, contact_id, "subscribed") for book_id in lists]
        if self.pending_members is not None:
            self.pending_members.extend(rows)
        else:
            self.db.executemany(JOIN_LIST, rows)

    def flush(self) -> None:
        """Write a slice's list memberships in one statement (nothing in a slice reads them back)."""
        if self.pending_members:
            self.db.executemany(JOIN_LIST, self.pending_members)
        self.pending_members = None


V2_REASONS = {
    "unsubscribed": ("Unsubscribed", "unsubscribed"), "hardBounced": ("Hard Bounced", "hardBounced"),
    "softBounced": ("Soft Bounced", "softBounced"), "ispComplained": ("Isp Complaints", "ispComplaints"),
    "suppressed": ("Suppressed by you", "suppressedContacts"), "directComplaint": ("Isp Complaints", "ispComplaints"),
    "domainSuppressed": ("Domain Suppressed", "domainSuppressed"),
}


def write_v2_row(writer: ContactWriter, email: str, email_type: str | None, opt_in: str | None, data: dict,
                 merge: str, book_id: int | None) -> tuple[str, str | None, str | None]:
    """One CSV row of a v2 file import: returns (created|updated|rejected, fault reason, report counter).

    A v2 import never changes an unsubscribed or suppressed contact: the row is reported in the
    report-faults file and counted, exactly as Dotdigital's report example shows.
    """
    row = writer.find("email", email)
    if row is not None and row["email_status"] not in MARKETABLE:
        reason, counter = V2_REASONS.get(row["email_status"], ("Globally Suppressed", "globallySuppressed"))
        return "rejected", reason, counter
    if book_id is not None and row is not None:
        member = writer.db.execute("SELECT status FROM book_members WHERE book_id = ? AND contact_id = ?",
                                   (book_id, row["id"])).fetchone()
        if member is not None and member[0] == "suppressed":
            return "rejected", "Unsubscribed", "unsubscribed"
    if row is None:
        cur = writer.db.execute(
            "INSERT INTO contacts (email, email_status, email_type, opt_in_type, data, created, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (email, "pendingOptIn" if opt_in == "VerifiedDouble" else "subscribed", email_type or "Html",
             opt_in or "Unknown", codec.dumps(merge_data({}, data, "overwrite")), writer.now, writer.now))
        contact_id, kind = cur.lastrowid, "created"
    else:
        contact_id, kind = row["id"], "updated"
        merged = merge_data(codec.loads(row["data"]), data, merge)
        writer.db.execute("UPDATE contacts SET data = ?, email_type = COALESCE(?, email_type), "
                          "opt_in_type = COALESCE(?, opt_in_type), updated = ? WHERE id = ?",
                          (codec.dumps(merged), email_type, opt_in, writer.now, contact_id))
    if book_id is not None:
        writer._join_lists(contact_id, [book_id])
    return kind, None, None
