"""Contact rules shared by every write path: identifier checks, typed data fields, merge options, consent.

Consent follows Dotdigital: an import never resubscribes a contact that is unsubscribed or suppressed
(the channel status stays, the contact is reported); only explicit resubscribe calls (v2 resubscribe
endpoints, v3 ``resubscribeOptions``) lift an unsubscribe, never a hard bounce or complaint; an SMS
opt-out cannot be reversed through the API at all. Email and SMS channels are independent.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache

EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
MOBILE_RE = re.compile(r"^\+?[1-9]\d{7,14}$")
DATE_PREFIX_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
FIELD_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
STRING_MAX = 255
RESERVED_FIELD_NAMES = {
    "account", "campaign", "campaignid", "contact", "contact_api_id", "contactid", "email", "hcontactid",
    "hemail", "hemail256", "id", "messagecontent", "mobilenumberid", "notes", "unsubscribed",
    "uniquecontactid",
}
FIELD_TYPES = ("String", "Numeric", "Date", "Boolean")

# Email statuses an explicit resubscribe may lift; every other non-subscribed status is permanent here.
RESUBSCRIBABLE = {"unsubscribed", "suppressed"}
MARKETABLE = {"subscribed", "pendingOptIn", "noSubscription"}
V2_STATUS = {
    "subscribed": "Subscribed", "unsubscribed": "Unsubscribed", "softBounced": "SoftBounced",
    "hardBounced": "HardBounced", "ispComplained": "IspComplained", "pendingOptIn": "PendingOptIn",
    "directComplaint": "DirectComplaint", "suppressed": "Suppressed", "deleted": "Deleted",
    "sharedsuppression": "SharedSuppression", "domainSuppressed": "DomainSuppression",
    "noSubscription": "Subscribed",
}
EMAIL_TYPES = {"html": "Html", "plaintext": "PlainText"}
OPT_IN_TYPES = {"unknown": "Unknown", "single": "Single", "double": "Double", "verifieddouble": "VerifiedDouble"}
V3_MERGE = {"overwrite": "overwrite", "overwriteifnotempty": "overwriteIfNotEmpty",
            "overwrite-if-not-empty": "overwriteIfNotEmpty", "overwriteifempty": "overwriteIfEmpty",
            "overwrite-if-empty": "overwriteIfEmpty"}
V2_MERGE = {"overwrite": "overwrite", "0": "overwrite", "onlyoverwriteifnotempty": "overwriteIfNotEmpty",
            "1": "overwriteIfNotEmpty", "onlyoverwriteifcontactdatanotpopulated": "overwriteIfEmpty",
            "2": "overwriteIfEmpty"}


def valid_email(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 254 and bool(EMAIL_RE.match(value))


def normal_mobile(value: object) -> str | None:
    """E.164 digits without the plus, as Dotdigital echoes them; None when not a phone number."""
    if not isinstance(value, str) or not MOBILE_RE.match(value.strip()):
        return None
    return value.strip().lstrip("+")


def top_status(email_status: str, sms_status: str, has_email: bool) -> str:
    status = email_status if has_email else sms_status
    if status in ("subscribed", "unsubscribed", "pendingOptIn", "noSubscription", "deleted"):
        return status
    return "suppressed"


class FieldTypeError(ValueError):
    pass


def coerce(field_type: str, value: object) -> object:
    """A data field value as stored, or FieldTypeError; None clears the field."""
    if value is None:
        return None
    if field_type == "String":
        text = value if isinstance(value, str) else str(value)
        if isinstance(value, (dict, list)):
            raise FieldTypeError("not a string")
        if len(text) > STRING_MAX:
            raise FieldTypeError(f"longer than {STRING_MAX} characters")
        return text
    if field_type == "Numeric":
        if isinstance(value, bool):
            raise FieldTypeError("not a number")
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str) and value.strip() != "":
            try:
                number = float(value)
            except ValueError as exc:
                raise FieldTypeError("not a number") from exc
            return int(number) if number.is_integer() and "." not in value else number
        raise FieldTypeError("not a number")
    if field_type == "Boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0"):
            return False
        raise FieldTypeError("not a boolean")
    if field_type == "Date":
        if not isinstance(value, str):
            raise FieldTypeError("not a date with a 4-digit year")
        return _date(value)
    raise FieldTypeError(f"unknown field type {field_type}")


@lru_cache(maxsize=65536)
def _date(value: str) -> str:
    """Cached because a million-contact import repeats the same few thousand dates (birthdays, consent days)."""
    if len(value) in (10, 20) and "1000" <= value[:4] and (len(value) == 10 or (value[10] == "T" and value[19] == "Z")):
        # The two shapes a sync sends (2024-01-31, 2024-01-31T09:30:00Z): checked by the parser, then cut.
        try:
            datetime.fromisoformat(value)
        except ValueError as exc:
            raise FieldTypeError("not a date") from exc
        return value + "T00:00:00" if len(value) == 10 else value[:19]
    if not DATE_PREFIX_RE.match(value.strip()):
        raise FieldTypeError("not a date with a 4-digit year")
    text = value.strip().replace(" ", "T")
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError as exc:
        raise FieldTypeError("not a date") from exc
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")


def field_map(db) -> dict[str, tuple[str, str]]:
    """lower-case name -> (name as created, type)."""
    return {row[0].lower(): (row[0], row[1]) for row in db.execute("SELECT name, type FROM data_fields")}


def typed_fields(incoming: dict, fields: dict[str, tuple[str, str]]) -> tuple[dict, list[str]]:
    """Map keys to defined fields case-insensitively and check each value's type; returns (values, errors)."""
    values: dict = {}
    errors: list[str] = []
    for key, raw in incoming.items():
        known = fields.get(key) or fields.get(str(key).lower())
        if known is None:
            errors.append(f"Data field '{key}' does not exist")
            continue
        name, field_type = known
        # The common, already well-typed values skip coerce(): imports send hundreds of thousands of them.
        kind = type(raw)
        if raw is None or (kind is str and field_type == "String" and len(raw) <= STRING_MAX) \
                or (kind is bool and field_type == "Boolean") or (kind in (int, float) and field_type == "Numeric"):
            values[name] = raw
            continue
        try:
            values[name] = coerce(field_type, raw)
        except FieldTypeError as exc:
            errors.append(f"Invalid value for data field '{key}': {exc}")
    return values, errors


def merge_data(current: dict, incoming: dict, merge: str) -> dict:
    """Dotdigital merge options: overwrite (null clears), overwriteIfNotEmpty, overwriteIfEmpty."""
    merged = dict(current)
    for name, value in incoming.items():
        empty_new = value is None or value == ""
        if merge == "overwriteIfNotEmpty" and empty_new:
            continue
        if merge == "overwriteIfEmpty" and merged.get(name) not in (None, ""):
            continue
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def v3_contact(row, lists: list[dict]) -> dict:
    data = json.loads(row["data"])
    identifiers: dict = {}
    if row["email"]:
        identifiers["email"] = row["email"]
    if row["mobile"]:
        identifiers["mobileNumber"] = row["mobile"]
    channels: dict = {}
    if row["email"]:
        channels["email"] = {"emailType": row["email_type"], "optInType": row["opt_in_type"],
                             "status": row["email_status"]}
    if row["mobile"]:
        channels["sms"] = {"countryCode": country_code(row["mobile"]), "status": row["sms_status"]}
    return {
        "contactId": row["id"],
        "status": top_status(row["email_status"], row["sms_status"], bool(row["email"])),
        "created": row["created"], "updated": row["updated"],
        "identifiers": identifiers, "dataFields": data, "channelProperties": channels, "lists": lists,
    }


def country_code(mobile: str) -> str:
    for prefix, code in (("44", "GB"), ("1", "US"), ("33", "FR"), ("49", "DE"), ("61", "AU"), ("353", "IE")):
        if mobile.startswith(prefix):
            return code
    return "GB"


def v2_contact(row, full: bool = True) -> dict:
    contact = {"id": row["id"], "email": row["email"] or "", "optInType": row["opt_in_type"],
               "emailType": row["email_type"], "status": V2_STATUS.get(row["email_status"], "Suppressed")}
    if full:
        data = json.loads(row["data"])
        contact["dataFields"] = [{"key": k.upper(), "value": v} for k, v in data.items()]
    else:
        contact["dataFields"] = None
    return contact


def contact_lists(db, contact_id: int) -> list[dict]:
    rows = db.execute("SELECT b.id, b.name, m.status FROM book_members m JOIN address_books b ON b.id = m.book_id "
                      "WHERE m.contact_id = ? ORDER BY b.id", (contact_id,)).fetchall()
    return [{"id": r[0], "name": r[1], "status": r[2]} for r in rows]
