"""Checks of a mapping against the two live systems, as pure functions on their API answers.

The run's first task fetches Salesforce's describe() and Dotdigital's data field list and hands
them here; anything reported with severity ``error`` fails the run before a record is written.
Keeping the checks pure means they are tested without either API and give the same answer in a
dry run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sfdd.mapping.model import SyncMapping


@dataclass(frozen=True)
class Problem:
    """One finding of a preflight check. ``where`` is the key path in the mapping file."""

    code: str
    where: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.where}: {self.message} [{self.code}]"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


# Salesforce field types (describe ``type``) each mapping type may read from.
_TEXTUAL = {
    "string",
    "textarea",
    "email",
    "phone",
    "url",
    "picklist",
    "combobox",
    "id",
    "reference",
    "encryptedstring",
}
_COMPATIBLE: dict[str, set[str]] = {
    "string": _TEXTUAL
    | {"multipicklist", "int", "double", "currency", "percent", "boolean", "date", "datetime", "long"},
    "numeric": {"int", "double", "currency", "percent", "long"},
    "date": {"date", "datetime"},
    "datetime": {"datetime", "date"},
    "boolean": {"boolean"},
}
_EMAIL_TYPES = {"email", "string"}
_PHONE_TYPES = {"phone", "string"}
_PICKLIST_TYPES = {"picklist", "string", "combobox"}


def _fields_by_name(describe: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"].lower(): f for f in describe.get("fields", [])}


def _resolve(
    path: str,
    describe: dict[str, Any],
    related: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any] | None, str | None]:
    """Find the describe entry of ``path`` (``Email`` or ``Account.Name``); return (field, reason)."""
    parts = path.split(".")
    current = describe
    for depth, part in enumerate(parts):
        fields = _fields_by_name(current)
        obj = current.get("name", "?")
        if depth == len(parts) - 1:
            field = fields.get(part.lower())
            if field is None:
                return None, f"{obj} has no field {part!r}"
            return field, None
        rel = next(
            (f for f in fields.values() if (f.get("relationshipName") or "").lower() == part.lower()), None
        )
        if rel is None:
            return None, f"{obj} has no relationship {part!r}"
        targets = rel.get("referenceTo") or []
        parent = next((related[t] for t in targets if t in related), None)
        if parent is None:
            # Without the parent's describe the relationship is all that can be checked.
            return {"name": path, "type": "string", "_unchecked": True}, None
        current = parent
    return None, f"cannot resolve {path!r}"


def _picklist_values(field: dict[str, Any]) -> set[str]:
    return {v["value"] for v in field.get("picklistValues") or [] if v.get("active", True)}


def check_against_describe(
    mapping: SyncMapping,
    describe: dict[str, Any],
    related: dict[str, dict[str, Any]] | None = None,
) -> list[Problem]:
    """Check the mapping against the source object's describe() JSON (as Salesforce returns it).

    ``related`` optionally holds the describe() of parent objects by name (e.g. ``{"Account": ...}``)
    so parent fields such as ``Account.Name`` are checked too; without it only the relationship is.
    Reports fields that do not exist, types that cannot be converted, and picklist values the
    mapping names but Salesforce does not have (errors), plus Salesforce values a reject-policy
    segment does not cover (warnings).
    """
    related = related or {}
    problems: list[Problem] = []
    obj = describe.get("name", mapping.source.object)
    if obj.lower() != mapping.source.object.lower():
        problems.append(
            Problem(
                "OBJECT_MISMATCH",
                "source.object",
                f"describe is for {obj!r}, mapping reads {mapping.source.object!r}",
            )
        )
        return problems

    def lookup(where: str, path: str, allowed: set[str] | None, what: str) -> dict[str, Any] | None:
        field, reason = _resolve(path, describe, related)
        if field is None:
            problems.append(Problem("UNKNOWN_FIELD", where, f"{reason} (Salesforce field {path!r})"))
            return None
        if allowed is not None and not field.get("_unchecked") and field.get("type") not in allowed:
            problems.append(
                Problem(
                    "TYPE_MISMATCH",
                    where,
                    f"Salesforce field {path!r} is {field.get('type')}, which cannot be read as {what}",
                )
            )
        return field

    lookup("source.change_field", mapping.source.change_field, {"datetime"}, "the change timestamp")
    if mapping.target.email_field:
        lookup("target.email_field", mapping.target.email_field, _EMAIL_TYPES, "an email address")
    if mapping.target.mobile_field:
        lookup("target.mobile_field", mapping.target.mobile_field, _PHONE_TYPES, "a phone number")

    for i, f in enumerate(mapping.fields):
        allowed = set(_COMPATIBLE[f.type])
        if f.date_format:
            allowed |= _TEXTUAL
        sf = lookup(f"fields[{i}].source", f.source, allowed, f.type)
        if sf and f.type == "string" and sf.get("length") and f.max_length is None:
            limit = f.effective_max_length or 0
            if sf["length"] > limit:
                problems.append(
                    Problem(
                        "MAY_BE_TOO_LONG",
                        f"fields[{i}].max_length",
                        f"Salesforce allows {sf['length']} characters but the data field takes {limit}; "
                        "longer values will be rejected (set max_length and on_too_long: truncate to cut them)",
                        "warning",
                    )
                )

    for i, p in enumerate(mapping.segments.picklists):
        sf = lookup(f"segments.picklists[{i}].source", p.source, _PICKLIST_TYPES, "a picklist")
        if sf and sf.get("type") == "picklist":
            known = _picklist_values(sf)
            problems += _unknown_values(f"segments.picklists[{i}].value_map", p.value_map, known, p.source)
            if p.unmapped == "reject":
                problems += _uncovered_values(f"segments.picklists[{i}]", p.value_map, known, p.source)

    for i, m in enumerate(mapping.segments.multiselects):
        sf = lookup(
            f"segments.multiselects[{i}].source", m.source, {"multipicklist"}, "a multi-select picklist"
        )
        if sf and sf.get("type") == "multipicklist":
            known = _picklist_values(sf)
            named = m.values if m.mode == "booleans" else m.value_map
            key = "values" if m.mode == "booleans" else "value_map"
            problems += _unknown_values(f"segments.multiselects[{i}].{key}", named, known, m.source)
            if m.unmapped_policy == "reject":
                problems += _uncovered_values(f"segments.multiselects[{i}]", named, known, m.source)

    for channel in ("email", "sms"):
        c = getattr(mapping.consent, channel)
        if c is None:
            continue
        for key in ("opt_out_field", "opt_in_field"):
            if getattr(c, key):
                lookup(f"consent.{channel}.{key}", getattr(c, key), {"boolean"}, "a boolean consent flag")
        if c.consent_timestamp_field:
            lookup(
                f"consent.{channel}.consent_timestamp_field",
                c.consent_timestamp_field,
                {"datetime", "date"},
                "a date",
            )

    if mapping.precedence and mapping.precedence.skip_if and mapping.precedence.skip_if.converted:
        lookup("precedence.skip_if.converted", mapping.precedence.skip_if.converted, {"boolean"}, "a boolean")
    if mapping.precedence and mapping.precedence.defer_to:
        defer = mapping.precedence.defer_to
        other = related.get(defer.object)
        if other is not None:
            field, reason = _resolve(defer.match_on, other, related)
            if field is None:
                problems.append(Problem("UNKNOWN_FIELD", "precedence.defer_to.match_on", str(reason)))
    return problems


def _unknown_values(where: str, named: dict[str, Any], known: set[str], source: str) -> list[Problem]:
    return [
        Problem("UNKNOWN_PICKLIST_VALUE", f"{where}.{value}", f"{value!r} is not an active value of {source}")
        for value in named
        if value not in known
    ]


def _uncovered_values(where: str, named: dict[str, Any], known: set[str], source: str) -> list[Problem]:
    missing = sorted(known - set(named))
    if not missing:
        return []
    return [
        Problem(
            "UNMAPPED_PICKLIST_VALUE",
            where,
            f"{source} values {missing} are not mapped; records holding them will be rejected",
            "warning",
        )
    ]


def check_against_datafields(
    mapping: SyncMapping, existing: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Compare the mapping's data fields with Dotdigital's (GET /v2/data-fields).

    Returns the POST /v2/data-fields bodies for fields to create, and a Problem for every field that
    exists with another type (Dotdigital cannot change a field's type, so the run must stop).
    Names are compared case-insensitively, as Dotdigital does.
    """
    by_name = {str(d.get("name", "")).upper(): d for d in existing}
    to_create: list[dict[str, Any]] = []
    clashes: list[Problem] = []
    for where, name, dd_type in mapping.datafield_specs():
        current = by_name.get(name.upper())
        if current is None:
            to_create.append({"name": name, "type": dd_type, "visibility": "Private", "defaultValue": None})
        elif str(current.get("type", "")).lower() != dd_type.lower():
            clashes.append(
                Problem(
                    "DATAFIELD_TYPE_CLASH",
                    where,
                    f"Dotdigital data field {current.get('name')!r} is {current.get('type')}, "
                    f"the mapping writes {dd_type}",
                )
            )
    return to_create, clashes


def errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]
