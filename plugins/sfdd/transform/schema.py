"""The pandera schema of a sync, built from its mapping.

The transform first *stages* a chunk: every value the payload will carry, cleaned (trimmed,
cased, phone-normalised, value-mapped) but still text. This schema then validates the staged
frame lazily, so all failures of all rows are collected in one pass. Each check is named after the
reject code it stands for, and each staged column knows the Salesforce field it came from, so
``SchemaErrors.failure_cases`` turns into reject rows without per-row Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sfdd.mapping.datafield_rules import STRING_MAX_LENGTH
from sfdd.transform import codes

if TYPE_CHECKING:
    from sfdd.mapping.model import SyncMapping

MATCH_IDENTIFIER = "match_identifier"


@dataclass(frozen=True)
class StagedColumn:
    """One column of the staged frame and how to validate and report it."""

    name: str
    field: str  # the Salesforce field reported in rejects
    kind: str  # email|phone|string|numeric|date|datetime|boolean|flag|picklist|multiselect|identifier
    required: bool = False
    max_length: int | None = None
    date_format: str | None = None
    known_values: frozenset[str] | None = None  # picklist / multiselect raw values accepted
    output: bool = True  # False for helper columns that exist only to be validated
    dd_field: str | None = None

    @property
    def sensitive(self) -> str | None:
        if self.kind == "email":
            return "email"
        if self.kind == "phone":
            return "phone"
        return None

    @property
    def null_code(self) -> str:
        return codes.MISSING_IDENTIFIER if self.kind == "identifier" else codes.REQUIRED_FIELD_MISSING


def staged_columns(mapping: SyncMapping) -> list[StagedColumn]:
    """Every staged column of the mapping, identifiers first, then data fields in file order."""
    t = mapping.target
    cols: list[StagedColumn] = [
        StagedColumn(MATCH_IDENTIFIER, _identifier_field(mapping), "identifier", required=True)
    ]
    if t.email_field:
        cols.append(StagedColumn("email", t.email_field, "email"))
    if t.mobile_field:
        cols.append(StagedColumn("mobile_number", t.mobile_field, "phone"))
    for f in mapping.fields:
        kind = f.type
        if f.format == "email":
            kind = "email"
        elif f.format == "phone_e164":
            kind = "phone"
        cols.append(
            StagedColumn(
                f.target,
                f.source,
                kind,
                required=f.required,
                max_length=f.effective_max_length if f.on_too_long == "reject" else None,
                date_format=f.date_format,
                dd_field=f.target,
            )
        )
    for i, p in enumerate(mapping.segments.picklists):
        if p.unmapped == "reject":
            cols.append(
                StagedColumn(
                    f"__picklist_{i}", p.source, "picklist", known_values=frozenset(p.value_map), output=False
                )
            )
        cols.append(
            StagedColumn(p.target, p.source, "string", max_length=STRING_MAX_LENGTH, dd_field=p.target)
        )
    for i, m in enumerate(mapping.segments.multiselects):
        if m.unmapped_policy == "reject":
            known = m.values if m.mode == "booleans" else m.value_map
            cols.append(
                StagedColumn(
                    f"__multiselect_{i}", m.source, "multiselect", known_values=frozenset(known), output=False
                )
            )
        if m.mode == "joined" and m.target:
            cols.append(
                StagedColumn(m.target, m.source, "string", max_length=STRING_MAX_LENGTH, dd_field=m.target)
            )
        else:
            for name in m.values.values():
                cols.append(StagedColumn(name, m.source, "flag", dd_field=name))
    for c in (mapping.consent.email, mapping.consent.sms):
        if c is not None and c.consent_timestamp_field and c.consent_timestamp_target:
            cols.append(
                StagedColumn(
                    c.consent_timestamp_target,
                    c.consent_timestamp_field,
                    "datetime",
                    dd_field=c.consent_timestamp_target,
                )
            )
    return cols


def _identifier_field(mapping: SyncMapping) -> str:
    t = mapping.target
    names = [t.email_field if i == "email" else t.mobile_field for i in mapping.identifiers_in_use()]
    return "|".join(n for n in names if n)


def _checks(col: StagedColumn) -> list[Any]:
    import pandera.pandas as pa

    from sfdd.transform import frame, phone, segments

    checks = []
    if col.kind == "email":
        checks.append(pa.Check(frame.is_email, name=codes.INVALID_EMAIL))
    elif col.kind == "phone":
        checks.append(pa.Check(phone.is_e164, name=codes.INVALID_PHONE))
    elif col.kind == "numeric":
        checks.append(pa.Check(frame.is_number, name=codes.INVALID_NUMBER))
    elif col.kind in ("date", "datetime"):
        fmt = col.date_format
        checks.append(pa.Check(lambda s: frame.is_date(s, fmt), name=codes.INVALID_DATE))
    elif col.kind == "boolean":
        checks.append(pa.Check(frame.is_boolean, name=codes.INVALID_BOOLEAN))
    elif col.kind == "picklist":
        known = col.known_values or frozenset()
        checks.append(pa.Check(lambda s: s.isin(known), name=codes.UNKNOWN_PICKLIST_VALUE))
    elif col.kind == "multiselect":
        known = set(col.known_values or ())
        checks.append(
            pa.Check(
                lambda s: ~segments.unknown_multiselect_values(s, known),
                name=codes.UNKNOWN_PICKLIST_VALUE,
            )
        )
    if col.max_length is not None:
        limit = col.max_length
        checks.append(pa.Check(lambda s: s.str.len() <= limit, name=codes.VALUE_TOO_LONG))
    return checks


def build_schema(mapping: SyncMapping):  # -> pandera.pandas.DataFrameSchema
    """The DataFrameSchema validating a staged chunk of ``mapping`` (use ``lazy=True``)."""
    import pandera.pandas as pa

    columns = {
        col.name: pa.Column(dtype=None, nullable=not col.required, checks=_checks(col), required=True)
        for col in staged_columns(mapping)
    }
    return pa.DataFrameSchema(columns, name=f"sync:{mapping.name}", strict=False, coerce=False)
