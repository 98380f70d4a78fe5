"""One extract chunk in, four disjoint outcomes out: valid contacts, rejects, skipped, deleted.

Order of decisions for each input row (the first that applies wins, so a row lands in exactly one
outcome): deleted in Salesforce -> ``deleted`` (or skipped by ``deleted_ignored``); a precedence
rule (converted Lead, email owned by a Contact) -> ``skipped``; any validation failure ->
``rejects`` (one reject row per failure, the row counted once); the same identifier twice ->
the most recently changed row stays, the others are rejected as DUPLICATE_IDENTIFIER; everything
else -> ``valid``, typed and ready for the payload builder.

Pure: no I/O, no Airflow. The caller reads the chunk and writes the four frames wherever the
staging area says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sfdd.mapping.datafield_rules import PIPELINE_LEAD_COLUMNS
from sfdd.mapping.model import RULE_CONVERTED_LEAD, RULE_DELETED_IGNORED, owned_rule_name
from sfdd.transform import codes

if TYPE_CHECKING:
    import pandas as pd

    from sfdd.mapping.model import SyncMapping

VALID_LEAD_COLUMNS = list(PIPELINE_LEAD_COLUMNS)
REJECT_COLUMNS = ["sf_id", "row", "field", "error_code", "message", "value_preview"]
SKIPPED_COLUMNS = ["sf_id", "row", "rule"]
DELETED_COLUMNS = ["sf_id", "row", "match_identifier", "identifier"]

_MESSAGES = {
    codes.INVALID_EMAIL: "not a valid email address",
    codes.INVALID_PHONE: "not a phone number that can be written in E.164 form",
    codes.MISSING_IDENTIFIER: "no email or mobile number to identify the contact",
    codes.DUPLICATE_IDENTIFIER: "another record in the chunk has the same identifier and changed more recently",
    codes.VALUE_TOO_LONG: "value is longer than the data field allows",
    codes.UNKNOWN_PICKLIST_VALUE: "value is not in the mapping's value map",
    codes.INVALID_DATE: "not a date",
    codes.INVALID_NUMBER: "not a number",
    codes.INVALID_BOOLEAN: "not true or false",
    codes.REQUIRED_FIELD_MISSING: "required value is empty",
}


@dataclass
class TransformResult:
    valid: pd.DataFrame
    rejects: pd.DataFrame
    skipped: pd.DataFrame
    deleted: pd.DataFrame
    read: int

    def counts(self) -> dict[str, int]:
        """read / valid / rejected / skipped / deleted, rejected counting distinct rows."""
        return {
            "read": self.read,
            "valid": len(self.valid),
            "rejected": int(self.rejects["row"].nunique()),
            "skipped": len(self.skipped),
            "deleted": len(self.deleted),
        }

    def rejects_by_code(self) -> dict[str, int]:
        """Distinct rejected rows per error code (a row with two codes counts under each)."""
        if self.rejects.empty:
            return {}
        grouped = self.rejects.drop_duplicates(["row", "error_code"]).groupby("error_code").size()
        return {str(k): int(v) for k, v in grouped.items()}

    def skipped_by_rule(self) -> dict[str, int]:
        if self.skipped.empty:
            return {}
        return {str(k): int(v) for k, v in self.skipped.groupby("rule").size().items()}


def transform_chunk(
    df: pd.DataFrame,
    mapping: SyncMapping,
    owned_identifiers: Iterable[str] | None = None,
) -> TransformResult:
    """Transform one extract chunk (all columns text, as Bulk API 2.0 CSV delivers them).

    ``owned_identifiers`` are the emails owned by the object named in ``precedence.defer_to``
    (see ``sfdd.mapping.soql.build_owner_query``); when None that rule is not applied.
    """
    import pandas as pd

    from sfdd.transform import consent as consent_rules
    from sfdd.transform import frame, phone
    from sfdd.transform.schema import build_schema, staged_columns

    df = df.reset_index(drop=True)
    n = len(df)
    _require_columns(df, mapping)
    t = mapping.target

    sf_id = frame.text(df["Id"])
    email = frame.normalise_email(frame.text(df[t.email_field])) if t.email_field else _empty(df.index)
    mobile = (
        phone.normalise_e164(frame.text(df[t.mobile_field]), mapping.phone_country_code)
        if t.mobile_field
        else _empty(df.index)
    )
    match = _match_identifier(mapping, email, mobile)

    remaining = pd.Series(True, index=df.index)
    skipped_parts: list[pd.DataFrame] = []

    # 1. deleted in Salesforce
    is_deleted = _flag(df["IsDeleted"]) if "IsDeleted" in df.columns else pd.Series(False, index=df.index)
    deleted = df.index[is_deleted]
    if mapping.source.deleted == "remove":
        ident = email.where(match == "email", mobile)
        deleted_frame = pd.DataFrame(
            {
                "sf_id": sf_id[deleted],
                "row": deleted,
                "match_identifier": match[deleted],
                "identifier": ident[deleted],
            }
        )
    else:
        deleted_frame = _frame(DELETED_COLUMNS)
        skipped_parts.append(_skipped(sf_id, deleted, RULE_DELETED_IGNORED))
    remaining &= ~is_deleted

    # 2. precedence rules
    prec = mapping.precedence
    if prec and prec.skip_if and prec.skip_if.converted:
        converted = df.index[_flag(df[prec.skip_if.converted]) & remaining]
        skipped_parts.append(_skipped(sf_id, converted, RULE_CONVERTED_LEAD))
        remaining[converted] = False
    if prec and prec.defer_to and owned_identifiers is not None:
        owned = {str(v).strip().lower() for v in owned_identifiers if v is not None and str(v).strip()}
        owned_rows = df.index[email.isin(owned) & remaining]
        skipped_parts.append(_skipped(sf_id, owned_rows, owned_rule_name(prec.defer_to.object)))
        remaining[owned_rows] = False
    skipped_frame = pd.concat(skipped_parts, ignore_index=True) if skipped_parts else _frame(SKIPPED_COLUMNS)

    # 3. stage and validate the rest
    cand = df.index[remaining]
    sub = df.loc[cand]
    cols = staged_columns(mapping)
    staged = _stage(sub, mapping, email[cand], mobile[cand], match[cand])
    reject_parts: list[pd.DataFrame] = []
    if len(staged):
        import pandera.pandas as pa

        try:
            build_schema(mapping).validate(staged, lazy=True)
        except pa.errors.SchemaErrors as exc:
            reject_parts.append(_rejects_from_failures(exc.failure_cases, {c.name: c for c in cols}, sf_id))
    rejected_rows = set(reject_parts[0]["row"]) if reject_parts else set()
    ok = cand[~cand.isin(list(rejected_rows))]

    # 4. one row per identifier: the most recently changed wins
    if len(ok):
        key = match[ok] + ":" + email[ok].where(match[ok] == "email", mobile[ok])
        stamp = frame.parse_dates(frame.text(df.loc[ok, mapping.source.change_field]))
        order = pd.DataFrame({"key": key, "stamp": stamp, "row": ok}, index=ok).sort_values(
            ["stamp", "row"], na_position="first"
        )
        dup = order.index[order.duplicated("key", keep="last")]
        if len(dup):
            ident_col = {"email": t.email_field, "mobile_number": t.mobile_field}
            values = email[dup].where(match[dup] == "email", mobile[dup])
            reject_parts.append(
                pd.DataFrame(
                    {
                        "sf_id": sf_id[dup],
                        "row": dup,
                        "field": [ident_col.get(m) for m in match[dup]],
                        "error_code": codes.DUPLICATE_IDENTIFIER,
                        "message": _MESSAGES[codes.DUPLICATE_IDENTIFIER],
                        "value_preview": [
                            frame.preview(v, sensitive="email" if m == "email" else "phone")
                            for v, m in zip(values, match[dup], strict=True)
                        ],
                    }
                )
            )
            ok = ok[~ok.isin(dup)]

    rejects = pd.concat(reject_parts, ignore_index=True) if reject_parts else _frame(REJECT_COLUMNS)
    rejects = rejects.sort_values(["row", "field"], kind="stable").reset_index(drop=True)

    # 5. typed valid rows
    okstaged = staged.loc[ok]
    valid = pd.DataFrame(
        {
            "sf_id": sf_id[ok],
            "row": ok,
            "email": email[ok],
            "mobile_number": mobile[ok],
            "match_identifier": match[ok],
        },
        index=ok,
    )
    email_consent, sms_consent = mapping.consent.email, mapping.consent.sms
    sub_ok = df.loc[ok]
    email_status = consent_rules.channel_status(
        ok, email_consent, *_consent_columns(sub_ok, email_consent)
    ).where(valid["email"].notna())
    sms_status = consent_rules.channel_status(ok, sms_consent, *_consent_columns(sub_ok, sms_consent)).where(
        valid["mobile_number"].notna()
    )
    valid["email_status"] = email_status
    valid["sms_status"] = sms_status
    opt_in = consent_rules.OPT_IN_TYPE_VALUES[email_consent.opt_in_type] if email_consent else None
    valid["email_opt_in_type"] = (
        pd.Series(opt_in, index=ok, dtype="str").where(email_status == consent_rules.SUBSCRIBED)
        if opt_in
        else pd.Series(pd.NA, index=ok, dtype="str")
    )
    for col in cols:
        if col.output and col.dd_field:
            valid[col.dd_field] = _typed(okstaged[col.name], col)
    valid = valid.reset_index(drop=True)
    valid["row"] = valid["row"].astype("int64")

    return TransformResult(
        valid=valid,
        rejects=rejects,
        skipped=skipped_frame.sort_values("row").reset_index(drop=True),
        deleted=deleted_frame.reset_index(drop=True),
        read=n,
    )


# --- helpers -----------------------------------------------------------------------------------


def _require_columns(df: pd.DataFrame, mapping: SyncMapping) -> None:
    missing = [c for c in mapping.source_fields() if c not in df.columns and c != "IsDeleted"]
    if missing:
        raise KeyError(f"chunk lacks columns {missing} that mapping {mapping.name!r} reads")


def _empty(index: pd.Index) -> pd.Series:
    import pandas as pd

    return pd.Series(pd.NA, index=index, dtype="str")


def _frame(columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    out = pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    out["row"] = out["row"].astype("int64")
    return out


def _flag(values: pd.Series) -> pd.Series:
    from sfdd.transform.frame import TRUE_WORDS, text

    return text(values).str.lower().isin(TRUE_WORDS)


def _skipped(sf_id: pd.Series, rows: pd.Index, rule: str) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({"sf_id": sf_id[rows].to_numpy(), "row": rows.to_numpy(dtype="int64"), "rule": rule})


def _match_identifier(mapping: SyncMapping, email: pd.Series, mobile: pd.Series) -> pd.Series:
    """Which identifier each row is matched on: the first of identifier / fallback that has a value."""
    import pandas as pd

    match = pd.Series(pd.NA, index=email.index, dtype="object")
    for ident in reversed(mapping.identifiers_in_use()):
        present = (email if ident == "email" else mobile).notna()
        match[present] = ident
    return match.astype("str").where(match.notna())


def _stage(
    sub: pd.DataFrame, mapping: SyncMapping, email: pd.Series, mobile: pd.Series, match: pd.Series
) -> pd.DataFrame:
    """Every value to validate, cleaned but still text, one column per StagedColumn."""
    import pandas as pd

    from sfdd.transform import frame, phone, segments
    from sfdd.transform.schema import MATCH_IDENTIFIER

    staged: dict[str, pd.Series] = {MATCH_IDENTIFIER: match}
    if mapping.target.email_field:
        staged["email"] = email
    if mapping.target.mobile_field:
        staged["mobile_number"] = mobile
    for f in mapping.fields:
        v = frame.text(sub[f.source], trim=f.trim)
        if f.type == "string":
            v = frame.apply_case(v, f.case)
            if f.format == "email":
                v = frame.normalise_email(v)
            elif f.format == "phone_e164":
                v = phone.normalise_e164(v, mapping.phone_country_code)
            if f.on_too_long == "truncate" and f.effective_max_length:
                v = v.str.slice(0, f.effective_max_length)
        if f.default is not None:
            default = f.default
            rendered = ("true" if default else "false") if isinstance(default, bool) else str(default)
            v = v.fillna(rendered)
        staged[f.target] = v
    for i, p in enumerate(mapping.segments.picklists):
        raw = frame.text(sub[p.source])
        if p.unmapped == "reject":
            staged[f"__picklist_{i}"] = raw
        staged[p.target] = segments.picklist_values(raw, p)
    for i, m in enumerate(mapping.segments.multiselects):
        raw = frame.text(sub[m.source])
        if m.unmapped_policy == "reject":
            staged[f"__multiselect_{i}"] = raw
        if m.mode == "joined" and m.target:
            staged[m.target] = segments.multiselect_joined(raw, m)
        else:
            staged.update(segments.multiselect_booleans(raw, m))
    for c in (mapping.consent.email, mapping.consent.sms):
        if c is not None and c.consent_timestamp_field and c.consent_timestamp_target:
            staged[c.consent_timestamp_target] = frame.text(sub[c.consent_timestamp_field])
    return pd.DataFrame(staged, index=sub.index)


def _rejects_from_failures(fc: pd.DataFrame, cols: dict[str, Any], sf_id: pd.Series) -> pd.DataFrame:
    """pandera failure cases -> reject rows (field = the Salesforce field, code = the check name)."""
    import pandas as pd

    from sfdd.transform.frame import preview

    fc = fc[fc["index"].notna() & fc["column"].isin(list(cols))]
    rows = fc["index"].astype("int64").to_numpy()
    col_objs = [cols[c] for c in fc["column"]]
    error_codes = [
        col.null_code if check == "not_nullable" else check
        for col, check in zip(col_objs, fc["check"], strict=True)
    ]
    messages = [_message(col, code) for col, code in zip(col_objs, error_codes, strict=True)]
    previews = [
        preview(value, sensitive=col.sensitive)
        for value, col in zip(fc["failure_case"], col_objs, strict=True)
    ]
    return pd.DataFrame(
        {
            "sf_id": sf_id.to_numpy()[rows] if len(rows) else pd.Series(dtype="str"),
            "row": rows,
            "field": [col.field for col in col_objs],
            "error_code": error_codes,
            "message": messages,
            "value_preview": previews,
        }
    )


def _message(col: Any, code: str) -> str:
    text = _MESSAGES.get(code, code)
    if code == codes.VALUE_TOO_LONG and col.max_length:
        text = f"value is longer than {col.max_length} characters"
    return f"{col.dd_field}: {text}" if col.dd_field else text


def _consent_columns(sub: pd.DataFrame, consent: Any) -> tuple[pd.Series | None, pd.Series | None]:
    from sfdd.transform.frame import text

    if consent is None:
        return None, None
    out = text(sub[consent.opt_out_field]) if consent.opt_out_field else None
    opt_in = text(sub[consent.opt_in_field]) if consent.opt_in_field else None
    return out, opt_in


def _typed(values: pd.Series, col: Any) -> pd.Series:
    from sfdd.transform import frame

    if col.kind == "numeric":
        return frame.parse_numbers(values)
    if col.kind == "date":
        return frame.parse_dates(values, col.date_format, date_only=True)
    if col.kind == "datetime":
        return frame.parse_dates(values, col.date_format)
    if col.kind == "boolean":
        return frame.parse_booleans(values)
    if col.kind == "flag":
        return values.astype("boolean")
    return values.astype("str").where(values.notna())
