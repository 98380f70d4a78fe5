"""Record validation and writes shared by REST, sObject Collections and Bulk API 2.0 ingest.

One code path means a value rejected by one API is rejected by the others with the same status code
(INVALID_FIELD, STRING_TOO_LONG, REQUIRED_FIELD_MISSING, INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
DUPLICATE_VALUE, ...). Every write stamps LastModifiedDate/SystemModstamp from the emulated clock and
writes history rows for tracked fields. Callers hold ``store.write_lock`` and own the transaction.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from sandbox.salesforce.clock import format_datetime, parse_date, parse_datetime
from sandbox.salesforce.errors import RecordError
from sandbox.salesforce.faults import Faults
from sandbox.salesforce.ids import is_id, to18
from sandbox.salesforce.schema import Field, SObject
from sandbox.salesforce.store import Store

EMAIL_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                      r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
UNSET = object()


class Writer:
    def __init__(self, store: Store, faults: Faults):
        self.store = store
        self.faults = faults

    @contextmanager
    def transaction(self):
        """One atomic unit (a whole allOrNone request, or one record otherwise)."""
        local = self.store._local
        with self.store.write_lock:
            conn = self.store.writer
            conn.execute("SAVEPOINT w")
            local.writing = getattr(local, "writing", 0) + 1
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK TO w")
                conn.execute("RELEASE w")
                raise
            finally:
                local.writing -= 1
            conn.execute("RELEASE w")

    # -- value coercion -----------------------------------------------------------------------------
    def coerce(self, obj: SObject, f: Field, value, csv: bool):
        """JSON or CSV input value -> stored value, or RecordError with Salesforce's status code."""
        if csv:
            if value == "":
                return UNSET               # Bulk API 2.0: empty cell leaves the field unchanged
            if value == "#N/A":
                value = None               # ...and #N/A sets it to null
        if value is None:
            return None
        t = f.type

        def bad():
            return RecordError("INVALID_TYPE_ON_FIELD_IN_RECORD",
                               f"{f.label or f.name}: value not of required type: {value}", [f.name])

        if t == "boolean":
            if isinstance(value, bool):
                return int(value)
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
                return 1 if value.lower() in ("true", "1", "yes") else 0
            raise bad()
        if t in ("double", "currency", "percent", "int"):
            if isinstance(value, bool):
                raise bad()
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise bad() from None
            return int(number) if t == "int" else number
        if not isinstance(value, str):
            if t in ("string", "textarea", "phone", "picklist", "combobox", "url") and isinstance(value, int | float):
                value = str(value)
            else:
                raise bad()
        if t == "date":
            try:
                return parse_date(value[:10] if "T" in value else value).isoformat()
            except ValueError:
                raise bad() from None
        if t == "datetime":
            try:
                return format_datetime(parse_datetime(value))
            except ValueError:
                raise bad() from None
        if t in ("id", "reference"):
            if not is_id(value):
                raise RecordError("MALFORMED_ID", f"{f.label or f.name}: id value of incorrect type: {value}",
                                  [f.name])
            value = to18(value)
            targets = f.reference_to
            if targets and not any(value.startswith(self.store.objects[t2].key_prefix) and
                                   self.store.exists(t2, value) for t2 in targets if t2 in self.store.objects):
                raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [f.name])
            return value
        if f.length and len(value) > f.length:
            raise RecordError("STRING_TOO_LONG", f"{f.label or f.name}: data value too large: "
                              f"{value[:40]} (max length={f.length})", [f.name])
        if t == "email" and value and not EMAIL_RE.match(value):
            raise RecordError("INVALID_EMAIL_ADDRESS", f"{f.label or f.name}: invalid email address: {value}",
                              [f.name])
        if t == "picklist" and f.restricted and value not in f.picklist:
            raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              f"{f.label or f.name}: bad value for restricted picklist field: {value}", [f.name])
        if t == "multipicklist":
            items = [v.strip() for v in value.split(";") if v.strip()]
            if f.restricted and any(v not in f.picklist for v in items):
                raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                  f"{f.label or f.name}: bad value for restricted picklist field: {value}", [f.name])
            return ";".join(items) or None
        return value

    def prepare(self, obj: SObject, body: dict, creating: bool, csv: bool = False,
                skip: tuple[str, ...] = ()) -> dict:
        """Validate a request body into ``{canonical field: stored value}``."""
        values: dict = {}
        not_writable: list[str] = []
        skipped = {name.lower() for name in skip}
        for key, raw in body.items():
            if key == "attributes" or key.lower() in skipped:
                continue
            f = obj.lookup(key)
            if f is None:
                raise RecordError("INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}", [key])
            if not (f.createable if creating else f.updateable):
                not_writable.append(f.name)
                continue
            value = self.coerce(obj, f, raw, csv)
            if value is not UNSET:
                values[f.name] = value
        if not_writable:
            raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE",
                              f"Unable to create/update fields: {', '.join(not_writable)}. Please check the security "
                              "settings of this field and verify that it is read/write for your profile or "
                              "permission set.", not_writable)
        if creating:
            for f in obj.fields.values():
                if f.name not in values and f.default is not None and f.createable:
                    values[f.name] = int(f.default) if f.type == "boolean" else f.default
            missing = [f.name for f in obj.fields.values() if f.required and values.get(f.name) in (None, "")]
        else:
            missing = [name for name, v in values.items() if obj.fields[name].required and v in (None, "")]
        if missing:
            raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                              missing)
        return values

    def _check_unique(self, obj: SObject, values: dict, own_id: str | None) -> None:
        for name, value in values.items():
            f = obj.fields[name]
            if f.unique and value is not None:
                others = [i for i in self.store.find_ids(obj, name, value) if i != own_id]
                if others:
                    raise RecordError("DUPLICATE_VALUE", f"duplicate value found: {name} duplicates value on "
                                      f"record with id: {others[0]}", [name])

    def _lock_fault(self, obj: SObject, record_id: str | None) -> None:
        if self.faults.fire("unable_to_lock_row", f"/sobjects/{obj.name}"):
            raise RecordError("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records: "
                              f"{record_id or obj.key_prefix + '000000000000000'}", [])

    # -- operations ---------------------------------------------------------------------------------
    def create(self, obj: SObject, body: dict, csv: bool = False) -> str:
        if not obj.createable:
            raise RecordError("INVALID_TYPE_FOR_OPERATION", f"entity type {obj.name} does not support insert")
        values = self.prepare(obj, body, creating=True, csv=csv, skip=("Id",) if csv else ())
        self._check_unique(obj, values, None)
        self._lock_fault(obj, None)
        return self.store.insert(obj, values, self.store.now_text())

    def load_current(self, obj: SObject, record_id) -> dict:
        if not is_id(record_id):
            raise RecordError("MALFORMED_ID", f"{obj.name} ID: id value of incorrect type: {record_id}", ["Id"])
        record_id = to18(record_id)
        current = self.store.get(obj, record_id, include_deleted=True)
        if current is None or not record_id.startswith(obj.key_prefix):
            raise RecordError("INVALID_CROSS_REFERENCE_KEY" if current is None else "MALFORMED_ID",
                              "invalid cross reference id" if current is None else
                              f"{obj.name} ID: id value of incorrect type: {record_id}", ["Id"])
        if current["IsDeleted"]:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [])
        return current

    def update(self, obj: SObject, record_id, body: dict, csv: bool = False) -> str:
        current = self.load_current(obj, record_id)
        values = self.prepare(obj, body, creating=False, csv=csv, skip=("Id",))
        self._check_unique(obj, values, current["Id"])
        self._lock_fault(obj, current["Id"])
        self.store.update(obj, current, values, self.store.now_text())
        return current["Id"]

    def upsert(self, obj: SObject, ext_field_name: str, ext_value, body: dict, csv: bool = False) -> tuple[str, bool]:
        """Returns (id, created). Matching is on the external id field (or Id)."""
        ext = obj.lookup(ext_field_name)
        if ext is None or not (ext.external_id or ext.name == "Id" or ext.unique):
            raise RecordError("INVALID_FIELD", f"Field {ext_field_name} is not an external id field or indexed "
                              f"field for {obj.name}", [ext_field_name])
        if ext.name == "Id":
            if ext_value in (None, ""):
                return self.create(obj, body, csv=csv), True
            return self.update(obj, ext_value, body, csv=csv), False
        if ext_value in (None, "", "#N/A"):
            raise RecordError("MISSING_ARGUMENT", f"{ext.name} not specified", [ext.name])
        ext_value = self.coerce(obj, ext, ext_value, csv)
        matches = self.store.find_ids(obj, ext.name, ext_value)
        if len(matches) > 1:
            raise RecordError("DUPLICATE_EXTERNAL_ID", f"The value provided for foreign key reference {ext.name} "
                              f"is not a nested SObject: more than one record found for {ext_value}", [ext.name])
        if matches:
            fields = {k: v for k, v in body.items() if obj.lookup(k) is not ext}
            return self.update(obj, matches[0], fields, csv=csv), False
        fields = {k: v for k, v in body.items() if obj.lookup(k) is not ext}
        fields[ext.name] = ext_value if not csv else body.get(ext.name, ext_value)
        return self.create(obj, fields, csv=csv), True

    def delete(self, obj: SObject, record_id) -> str:
        current = self.load_current(obj, record_id)
        self._lock_fault(obj, current["Id"])
        self.store.soft_delete(obj, current["Id"], self.store.now_text())
        return current["Id"]
