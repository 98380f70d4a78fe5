"""The sync mapping: what a user declares in include/mappings/*.yaml, as validated pydantic models.

A mapping is configuration as data: every key is checked when the file is loaded, so a typo or an
impossible combination fails while the user edits YAML, never halfway through a run. The models
are frozen so the DAG file, the transform and the preflight all see the same, unchangeable values.

This module is imported by DAG files at parse time: it must stay free of pandas/pandera/pyarrow.
See docs/mappings.md for the reference of every key.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from sfdd.mapping.datafield_rules import STRING_MAX_LENGTH, check_datafield_name

# --- small value types -------------------------------------------------------------------------

_SF_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# A field of the object, or a parent field through up to five relationships (SOQL's own limit).
_SF_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){0,5}$")
_SYNC_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_RESERVED_ADDRESS_BOOKS = {"test", "all contacts"}


def _sf_object(value: str) -> str:
    if not isinstance(value, str) or not _SF_NAME.match(value):
        raise ValueError(f"{value!r} is not a Salesforce object API name (letters, digits and _)")
    return value


def _sf_field(value: str) -> str:
    if not isinstance(value, str) or not _SF_PATH.match(value):
        raise ValueError(
            f"{value!r} is not a Salesforce field API name (e.g. Email, Level__c or Account.Name)"
        )
    return value


def _parse_duration(value: Any) -> Any:
    """Accept "15m", "2h", "1d", "30s" or a number of seconds, as the mapping reference says."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("a duration must look like 15m, 2h, 1d or 30s")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(**{_DURATION_UNITS[match.group(2)]: int(match.group(1))})
    raise ValueError(f"{value!r} is not a duration; write it like 15m, 2h, 1d or 30s")


def _address_book_name(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 128:
        raise ValueError("an address book name must be 1 to 128 characters")
    if value.strip().lower() in _RESERVED_ADDRESS_BOOKS:
        raise ValueError(f"{value!r} is a reserved Dotdigital address book and cannot be written to")
    return value


SalesforceObject = Annotated[str, AfterValidator(_sf_object)]
SalesforceField = Annotated[str, AfterValidator(_sf_field)]
DataFieldName = Annotated[str, AfterValidator(check_datafield_name)]
AddressBookName = Annotated[str, AfterValidator(_address_book_name)]
Duration = Annotated[timedelta, BeforeValidator(_parse_duration)]

FieldType = Literal["string", "numeric", "date", "datetime", "boolean"]
Identifier = Literal["email", "mobile_number"]
OptInType = Literal["Unknown", "Single", "Double", "VerifiedDouble"]
MergeOption = Literal["overwrite", "overwriteIfNotEmpty", "overwriteIfEmpty"]

#: How a mapping field type is stored in Dotdigital (datetime has no type of its own there).
DD_TYPE_OF: dict[str, str] = {
    "string": "String",
    "numeric": "Numeric",
    "date": "Date",
    "datetime": "Date",
    "boolean": "Boolean",
}

#: Names of the rules that skip a record; they appear in run summaries and the ledger.
RULE_CONVERTED_LEAD = "converted_lead"
RULE_DELETED_IGNORED = "deleted_ignored"


def owned_rule_name(object_name: str) -> str:
    """Rule name for "this email belongs to a record of ``object_name``" (e.g. email_owned_by_contact)."""
    return f"email_owned_by_{object_name.lower()}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- sections ----------------------------------------------------------------------------------


class SourceConfig(_Model):
    """Where records come from and how a delta window is read."""

    object: SalesforceObject
    filter: str | None = None
    change_field: SalesforceField = "SystemModstamp"
    lookback: Duration = timedelta(minutes=10)
    deleted: Literal["remove", "ignore"] = "remove"

    @model_validator(mode="after")
    def _check(self) -> SourceConfig:
        if self.filter is not None:
            _check_soql_fragment(self.filter)
        if self.lookback < timedelta(0):
            raise ValueError("lookback: must not be negative")
        return self


def _check_soql_fragment(fragment: str) -> None:
    """Catch the filter mistakes that would otherwise only show as a Salesforce MALFORMED_QUERY."""
    if not fragment.strip():
        raise ValueError("filter: must not be empty (leave the key out instead)")
    depth, in_quote, escaped = 0, False, False
    for ch in fragment:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "'":
            in_quote = not in_quote
        elif not in_quote and ch == "(":
            depth += 1
        elif not in_quote and ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("filter: unbalanced parentheses")
        elif not in_quote and ch == ";":
            raise ValueError("filter: ';' is not allowed; write only a WHERE condition")
    if in_quote:
        raise ValueError("filter: unterminated string literal")
    if depth:
        raise ValueError("filter: unbalanced parentheses")
    bare = re.sub(r"'(?:[^'\\]|\\.)*'", "''", fragment)
    if re.search(r"\b(ORDER\s+BY|GROUP\s+BY|LIMIT|OFFSET|FROM|SELECT)\b", bare, re.IGNORECASE):
        raise ValueError("filter: write only a WHERE condition (no SELECT/FROM/ORDER BY/LIMIT/OFFSET)")


class TargetConfig(_Model):
    """Where contacts go in Dotdigital and how they are identified there."""

    address_books: list[AddressBookName] = Field(min_length=1, max_length=100)
    identifier: Identifier = "email"
    fallback_identifier: Identifier | None = None
    email_field: SalesforceField | None = "Email"
    mobile_field: SalesforceField | None = None
    merge_option: MergeOption = "overwrite"

    @model_validator(mode="after")
    def _check(self) -> TargetConfig:
        if self.fallback_identifier == self.identifier:
            raise ValueError("fallback_identifier: must differ from identifier")
        for key, ident in (
            ("identifier", self.identifier),
            ("fallback_identifier", self.fallback_identifier),
        ):
            if ident == "email" and not self.email_field:
                raise ValueError(f"{key}: 'email' needs target.email_field (the Salesforce email field)")
            if ident == "mobile_number" and not self.mobile_field:
                raise ValueError(
                    f"{key}: 'mobile_number' needs target.mobile_field (the Salesforce phone field)"
                )
        lowered = [b.strip().lower() for b in self.address_books]
        if len(set(lowered)) != len(lowered):
            raise ValueError("address_books: the same address book is named twice")
        return self


class FieldMapping(_Model):
    """One Salesforce field written to one Dotdigital data field."""

    source: SalesforceField
    target: DataFieldName
    type: FieldType = "string"
    trim: bool = True
    case: Literal["none", "lower", "upper", "title"] = "none"
    max_length: int | None = Field(default=None, ge=1, le=1000)
    on_too_long: Literal["reject", "truncate"] = "reject"
    format: Literal["none", "email", "phone_e164"] = "none"
    date_format: str | None = None
    default: str | bool | int | float | None = None
    required: bool = False

    @model_validator(mode="after")
    def _check(self) -> FieldMapping:
        if self.type != "string":
            for key, value, neutral in (
                ("case", self.case, "none"),
                ("format", self.format, "none"),
                ("max_length", self.max_length, None),
            ):
                if value != neutral:
                    raise ValueError(f"{key}: only applies to type string (this field is {self.type})")
        if self.date_format is not None:
            if self.type not in ("date", "datetime"):
                raise ValueError("date_format: only applies to type date or datetime")
            if "%" not in self.date_format:
                raise ValueError(f"date_format: {self.date_format!r} is not a strftime pattern like %d/%m/%Y")
        if self.default is not None:
            _check_default(self.type, self.default)
        return self

    @property
    def dd_type(self) -> str:
        return DD_TYPE_OF[self.type]

    @property
    def effective_max_length(self) -> int | None:
        """The length limit applied to a string field: the declared one or Dotdigital's own."""
        if self.type != "string":
            return None
        return self.max_length or STRING_MAX_LENGTH


def _check_default(field_type: str, value: object) -> None:
    ok = True
    if field_type == "numeric":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif field_type == "boolean":
        ok = isinstance(value, bool)
    elif field_type in ("date", "datetime"):
        try:
            (date if field_type == "date" else datetime).fromisoformat(str(value))
        except ValueError:
            ok = False
    elif field_type == "string":
        ok = isinstance(value, str)
    if not ok:
        raise ValueError(f"default: {value!r} is not a valid {field_type} value")


class PicklistSegment(_Model):
    """A Salesforce picklist normalised into one text data field."""

    source: SalesforceField
    target: DataFieldName
    value_map: dict[str, str] = Field(default_factory=dict)
    unmapped: Literal["reject", "keep", "default"] = "keep"
    default: str | None = None

    @model_validator(mode="after")
    def _check(self) -> PicklistSegment:
        if self.unmapped == "default" and self.default is None:
            raise ValueError("default: required when unmapped is 'default'")
        too_long = [v for v in [*self.value_map.values(), self.default or ""] if len(v) > STRING_MAX_LENGTH]
        if too_long:
            raise ValueError(
                f"value_map: {too_long[0][:30]!r}... is longer than {STRING_MAX_LENGTH} characters"
            )
        return self


class MultiselectSegment(_Model):
    """A Salesforce multi-select picklist, as one boolean data field per value or one joined text."""

    source: SalesforceField
    mode: Literal["booleans", "joined"]
    values: dict[str, DataFieldName] = Field(default_factory=dict)
    target: DataFieldName | None = None
    separator: str = Field(default=";", min_length=1, max_length=5)
    value_map: dict[str, str] = Field(default_factory=dict)
    unmapped: Literal["reject", "keep", "ignore"] | None = None

    @model_validator(mode="after")
    def _check(self) -> MultiselectSegment:
        if self.mode == "booleans":
            if not self.values:
                raise ValueError("values: mode 'booleans' needs values {salesforce value: data field name}")
            if self.target is not None or self.value_map:
                raise ValueError("target/value_map: only apply to mode 'joined'; use values for 'booleans'")
            if self.unmapped == "keep":
                raise ValueError("unmapped: 'keep' needs mode 'joined' (booleans have nowhere to keep it)")
        else:
            if self.target is None:
                raise ValueError("target: mode 'joined' needs a target data field name")
            if self.values:
                raise ValueError("values: only applies to mode 'booleans'; use value_map for 'joined'")
        return self

    @property
    def unmapped_policy(self) -> str:
        if self.unmapped is not None:
            return self.unmapped
        return "ignore" if self.mode == "booleans" else "keep"


class Segments(_Model):
    picklists: list[PicklistSegment] = Field(default_factory=list)
    multiselects: list[MultiselectSegment] = Field(default_factory=list)


class ChannelConsent(_Model):
    """Which Salesforce fields say whether one channel (email or SMS) may be marketed to.

    An opt-out always wins and makes the channel ``unsubscribed``. Without an opt-out the channel
    becomes ``subscribed`` only when ``opt_in_field`` is true or ``subscribe_when_not_opted_out``
    is set; otherwise the sync says nothing about the channel and Dotdigital keeps what it has.
    """

    opt_out_field: SalesforceField | None = None
    opt_in_field: SalesforceField | None = None
    subscribe_when_not_opted_out: bool = False
    consent_timestamp_field: SalesforceField | None = None
    consent_timestamp_target: DataFieldName | None = None

    @model_validator(mode="after")
    def _check(self) -> ChannelConsent:
        if not (self.opt_out_field or self.opt_in_field or self.subscribe_when_not_opted_out):
            raise ValueError(
                "needs at least one of opt_out_field, opt_in_field, subscribe_when_not_opted_out"
            )
        if self.subscribe_when_not_opted_out and self.opt_in_field:
            raise ValueError("subscribe_when_not_opted_out: cannot be combined with opt_in_field")
        if bool(self.consent_timestamp_field) != bool(self.consent_timestamp_target):
            raise ValueError("consent_timestamp_field and consent_timestamp_target go together")
        return self


class EmailConsent(ChannelConsent):
    opt_in_type: OptInType = "Unknown"


class SmsConsent(ChannelConsent):
    pass


class Consent(_Model):
    email: EmailConsent | None = None
    sms: SmsConsent | None = None


class SkipIf(_Model):
    converted: SalesforceField | None = None


class DeferTo(_Model):
    object: SalesforceObject
    match_on: SalesforceField = "Email"


class Precedence(_Model):
    """How a record defers to another object that shares its email (Lead vs Contact).

    ``skip_if.converted`` names a boolean field; rows where it is true are skipped by the rule
    ``converted_lead``. ``defer_to`` names an object whose records own an email: rows whose email
    matches one are skipped by the rule ``email_owned_by_<object>``.
    """

    skip_if: SkipIf | None = None
    defer_to: DeferTo | None = None


# --- the mapping -------------------------------------------------------------------------------


class SyncMapping(_Model):
    """One sync: a Salesforce object to Dotdigital address books (one YAML file)."""

    name: str
    description: str = ""
    schedule: str | None = "0 * * * *"
    source: SourceConfig
    target: TargetConfig
    precedence: Precedence | None = None
    fields: list[FieldMapping] = Field(default_factory=list)
    segments: Segments = Field(default_factory=Segments)
    consent: Consent = Field(default_factory=Consent)
    phone_country_code: str | None = None
    reject_threshold: float = Field(default=0.05, ge=0.0, le=1.0)
    chunk_size: int = Field(default=50_000, ge=100, le=1_000_000)

    @model_validator(mode="after")
    def _check(self) -> SyncMapping:
        if not _SYNC_NAME.match(self.name):
            raise ValueError(
                f"name: {self.name!r} must be snake_case (lower-case letters, digits and _, "
                "starting with a letter, at most 64 characters)"
            )
        if self.schedule is not None:
            _check_cron(self.schedule)
        if self.phone_country_code is not None and not re.fullmatch(r"[1-9]\d{0,2}", self.phone_country_code):
            raise ValueError(
                f"phone_country_code: {self.phone_country_code!r} must be a country calling code such as '44' or '1'"
            )
        seen: dict[str, str] = {}
        for path, name, _ in self.datafield_specs():
            key = name.upper()
            if key in seen:
                raise ValueError(f"{path}: data field {name!r} is already written by {seen[key]}")
            seen[key] = path
        if self.precedence and self.precedence.defer_to and not self.target.email_field:
            raise ValueError("precedence.defer_to: needs target.email_field to compare emails")
        if self.consent.sms and not self.target.mobile_field:
            raise ValueError("consent.sms: needs target.mobile_field (SMS status needs a mobile number)")
        return self

    # --- what other code asks of a mapping ---

    def datafield_specs(self) -> list[tuple[str, str, str]]:
        """Every data field this mapping writes as (key path in the file, name, Dotdigital type)."""
        specs: list[tuple[str, str, str]] = []
        for i, f in enumerate(self.fields):
            specs.append((f"fields[{i}].target", f.target, f.dd_type))
        for i, p in enumerate(self.segments.picklists):
            specs.append((f"segments.picklists[{i}].target", p.target, "String"))
        for i, m in enumerate(self.segments.multiselects):
            if m.mode == "booleans":
                for value, name in m.values.items():
                    specs.append((f"segments.multiselects[{i}].values.{value}", name, "Boolean"))
            elif m.target:
                specs.append((f"segments.multiselects[{i}].target", m.target, "String"))
        for channel in ("email", "sms"):
            c = getattr(self.consent, channel)
            if c is not None and c.consent_timestamp_target:
                specs.append(
                    (f"consent.{channel}.consent_timestamp_target", c.consent_timestamp_target, "Date")
                )
        return specs

    def datafields(self) -> dict[str, str]:
        """Data field name -> Dotdigital type (String|Numeric|Date|Boolean) for every field written."""
        return {name: dd_type for _, name, dd_type in self.datafield_specs()}

    def source_fields(self) -> list[str]:
        """Every Salesforce field the extract must read, in a stable order, without duplicates."""
        wanted: list[str | None] = ["Id", self.source.change_field, "IsDeleted"]
        wanted += [self.target.email_field, self.target.mobile_field]
        wanted += [f.source for f in self.fields]
        wanted += [p.source for p in self.segments.picklists]
        wanted += [m.source for m in self.segments.multiselects]
        for c in (self.consent.email, self.consent.sms):
            if c is not None:
                wanted += [c.opt_out_field, c.opt_in_field, c.consent_timestamp_field]
        if self.precedence and self.precedence.skip_if:
            wanted.append(self.precedence.skip_if.converted)
        out: list[str] = []
        seen: set[str] = set()
        for name in wanted:
            # Salesforce field names are case-insensitive; ask for each one once.
            if name and name.lower() not in seen:
                seen.add(name.lower())
                out.append(name)
        return out

    def identifiers_in_use(self) -> list[str]:
        """The identifiers the payload may carry: the match identifier first, then the fallback."""
        out = [self.target.identifier]
        if self.target.fallback_identifier:
            out.append(self.target.fallback_identifier)
        return out

    def skip_rules(self) -> list[str]:
        """Names of the rules that may skip records of this sync."""
        rules = []
        if self.source.deleted == "ignore":
            rules.append(RULE_DELETED_IGNORED)
        if self.precedence and self.precedence.skip_if and self.precedence.skip_if.converted:
            rules.append(RULE_CONVERTED_LEAD)
        if self.precedence and self.precedence.defer_to:
            rules.append(owned_rule_name(self.precedence.defer_to.object))
        return rules


def _check_cron(expr: str) -> None:
    from croniter import croniter  # light, and already an Airflow dependency

    if expr.startswith("@"):
        if expr not in {"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight"}:
            raise ValueError(f"schedule: {expr!r} is not a known cron preset")
        return
    if len(expr.split()) != 5 or not croniter.is_valid(expr):
        raise ValueError(f"schedule: {expr!r} is not a 5-field cron expression such as '0 * * * *'")
