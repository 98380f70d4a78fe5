"""Valid rows to Dotdigital v3 import contacts (``PUT /contacts/v3/import``, ``contactRequest``).

Shape per the Contacts service OpenAPI 3.4.3 (../shared/api-specs/dotdigital/dotdigital-contacts-service.json):
``{"matchIdentifier", "identifiers": {"email", "mobileNumber"}, "dataFields": {...},
"channelProperties": {"email": {"status", "optInType"}, "sms": {"status"}}, "lists": [ids]}``.

Consent is never widened here: a channel's ``status`` is written only when the transform decided
one (see sfdd.transform.consent), and ``resubscribeOptions`` is never written, so a contact that
Dotdigital holds as unsubscribed or suppressed is not brought back by a sync.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sfdd.mapping.datafield_rules import PIPELINE_LEAD_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

    from sfdd.mapping.model import SyncMapping

#: matchIdentifier / identifiers keys of the v3 API for the mapping's identifier names.
V3_IDENTIFIER = {"email": "email", "mobile_number": "mobileNumber"}
MAX_LISTS_PER_CONTACT = 100  # contactRequest.lists maxItems


def mobile_for_api(e164: str) -> str:
    """The v3 spec's examples write mobileNumber as digits with the country code and no '+'."""
    return e164[1:] if e164.startswith("+") else e164


def import_body(contacts: list[dict[str, Any]], mapping: SyncMapping) -> dict[str, Any]:
    """The whole ``PUT /contacts/v3/import`` request body."""
    return {"mergeOption": mapping.target.merge_option, "contacts": contacts}


def to_v3_contacts(valid: pd.DataFrame, mapping: SyncMapping, list_ids: list[int]) -> list[dict[str, Any]]:
    """One ``contactRequest`` per valid row, in row order."""
    if len(list_ids) > MAX_LISTS_PER_CONTACT:
        raise ValueError(
            f"a contact can be added to at most {MAX_LISTS_PER_CONTACT} lists, got {len(list_ids)}"
        )
    lists = [int(i) for i in list_ids]
    kinds = _datafield_kinds(mapping)
    names = [n for n in kinds if n in valid.columns]
    columns = {name: _render(valid[name], kinds[name]) for name in names}
    # email, mobile_number, match_identifier, email_status, sms_status, email_opt_in_type
    emails, mobiles, matches, email_status, sms_status, opt_in = (_values(valid[c]) for c in PIPELINE_LEAD_COLUMNS[2:])

    # One pass over plain lists (zip, not per-row indexing into a dozen columns): this loop builds
    # every contact of a 50,000-row chunk, so it is the payload step's whole cost.
    data_rows = zip(*(columns[name] for name in names), strict=True) if names else None
    contacts: list[dict[str, Any]] = []
    for email, mobile, match, e_status, s_status, e_opt_in in zip(
        emails, mobiles, matches, email_status, sms_status, opt_in, strict=True
    ):
        identifiers: dict[str, str] = {}
        if email is not None:
            identifiers["email"] = email
        if mobile is not None:
            identifiers["mobileNumber"] = mobile[1:] if mobile.startswith("+") else mobile
        contact: dict[str, Any] = {"matchIdentifier": V3_IDENTIFIER[match], "identifiers": identifiers}
        if data_rows is not None:
            contact["dataFields"] = dict(zip(names, next(data_rows), strict=True))
        channels: dict[str, Any] = {}
        if e_status is not None:
            channels["email"] = {"status": e_status}
            if e_opt_in is not None:
                channels["email"]["optInType"] = e_opt_in
        if s_status is not None:
            channels["sms"] = {"status": s_status}
        if channels:
            contact["channelProperties"] = channels
        if lists:
            contact["lists"] = lists
        contacts.append(contact)
    return contacts


def _values(values: pd.Series) -> list[Any]:
    """The column as a list with None for every kind of missing value.

    ``to_numpy(na_value=None)`` reads Arrow-backed text columns in C; going through ``astype(object)``
    iterated them in Python and was ten times slower.
    """
    return values.to_numpy(dtype=object, na_value=None).tolist()


def _datafield_kinds(mapping: SyncMapping) -> dict[str, str]:
    """Data field name -> how its typed column renders (string|numeric|date|datetime|boolean)."""
    kinds: dict[str, str] = {f.target: f.type for f in mapping.fields}
    for p in mapping.segments.picklists:
        kinds[p.target] = "string"
    for m in mapping.segments.multiselects:
        if m.mode == "joined" and m.target:
            kinds[m.target] = "string"
        for name in m.values.values():
            kinds[name] = "boolean"
    for c in (mapping.consent.email, mapping.consent.sms):
        if c is not None and c.consent_timestamp_target:
            kinds[c.consent_timestamp_target] = "datetime"
    return kinds


def _render(values: pd.Series, kind: str) -> list[Any]:
    """JSON values for one data field: None for no value, so an overwrite clears it."""
    if kind == "date":
        return _values(values.dt.strftime("%Y-%m-%d"))
    if kind == "datetime":
        return _values(values.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if kind == "numeric":
        # Whole numbers as JSON integers (1, not 1.0), as a person would type them.
        return [
            v if v is None else (int(v) if float(v).is_integer() and abs(v) < 2**53 else float(v))
            for v in _values(values)
        ]
    if kind == "boolean":
        return [v if v is None else bool(v) for v in _values(values)]
    return [v if v is None else str(v) for v in _values(values)]
