import numpy as np
import pandas as pd
import pytest

from sfdd.transform.pipeline import transform_chunk

from .conftest import chunk, make_mapping


def _assert_partition(result):
    """Every input row lands in exactly one outcome."""
    rows = [
        set(result.valid["row"]),
        set(result.rejects["row"]),
        set(result.skipped["row"]),
        set(result.deleted["row"]),
    ]
    union = set().union(*rows)
    assert union == set(range(result.read))
    assert sum(len(r) for r in rows) == result.read
    c = result.counts()
    assert c["valid"] + c["rejected"] + c["skipped"] + c["deleted"] == c["read"]


def test_valid_row_is_typed_and_consent_mapped():
    m = make_mapping(
        fields=[
            {"source": "FirstName", "target": "FIRSTNAME", "case": "title"},
            {"source": "Loyalty_Points__c", "target": "POINTS", "type": "numeric"},
            {"source": "Birthdate", "target": "BIRTHDAY", "type": "date"},
            {"source": "Email_Consent_Date__c", "target": "CONSENT_AT", "type": "datetime"},
            {"source": "VIP__c", "target": "VIP", "type": "boolean"},
        ],
        consent={
            "email": {
                "opt_out_field": "HasOptedOutOfEmail",
                "subscribe_when_not_opted_out": True,
                "opt_in_type": "Double",
            },
            "sms": {"opt_out_field": "SMS_Opt_Out__c"},
        },
    )
    df = chunk(
        m,
        [
            {
                "Email": " Ann@Example.COM ",
                "MobilePhone": "07700 900123",
                "FirstName": "  ann  ",
                "Loyalty_Points__c": "12.5",
                "Birthdate": "1990-02-03",
                "Email_Consent_Date__c": "2025-06-01T10:11:12.000+0000",
                "VIP__c": "true",
                "HasOptedOutOfEmail": "false",
                "SMS_Opt_Out__c": "true",
            }
        ],
    )
    r = transform_chunk(df, m)
    _assert_partition(r)
    row = r.valid.iloc[0]
    assert list(r.valid.columns)[:8] == [
        "sf_id",
        "row",
        "email",
        "mobile_number",
        "match_identifier",
        "email_status",
        "sms_status",
        "email_opt_in_type",
    ]
    assert (row["email"], row["mobile_number"], row["match_identifier"]) == (
        "ann@example.com",
        "+447700900123",
        "email",
    )
    assert (row["email_status"], row["sms_status"], row["email_opt_in_type"]) == (
        "subscribed",
        "unsubscribed",
        "double",
    )
    assert row["FIRSTNAME"] == "Ann"
    assert row["POINTS"] == 12.5 and str(r.valid["POINTS"].dtype) == "Float64"
    assert row["BIRTHDAY"] == pd.Timestamp("1990-02-03", tz="UTC")
    assert row["CONSENT_AT"] == pd.Timestamp("2025-06-01T10:11:12", tz="UTC")
    assert bool(row["VIP"]) is True


@pytest.mark.parametrize(
    ("field", "row", "code", "reported"),
    [
        (
            {"source": "Loyalty_Points__c", "target": "POINTS", "type": "numeric"},
            {"Loyalty_Points__c": "12 pts"},
            "INVALID_NUMBER",
            "Loyalty_Points__c",
        ),
        (
            {"source": "Birthdate", "target": "BIRTHDAY", "type": "date"},
            {"Birthdate": "31/02/1990"},
            "INVALID_DATE",
            "Birthdate",
        ),
        (
            {"source": "Birthdate", "target": "BIRTHDAY", "type": "date"},
            {"Birthdate": "0099-01-01"},
            "INVALID_DATE",
            "Birthdate",
        ),
        (
            {"source": "VIP__c", "target": "VIP", "type": "boolean"},
            {"VIP__c": "maybe"},
            "INVALID_BOOLEAN",
            "VIP__c",
        ),
        (
            {"source": "Title", "target": "TITLE", "max_length": 5},
            {"Title": "Director"},
            "VALUE_TOO_LONG",
            "Title",
        ),
        ({"source": "Title", "target": "TITLE"}, {"Title": "x" * 256}, "VALUE_TOO_LONG", "Title"),
        (
            {"source": "LastName", "target": "LASTNAME", "required": True},
            {"LastName": "   "},
            "REQUIRED_FIELD_MISSING",
            "LastName",
        ),
        (
            {"source": "Phone", "target": "PHONE", "format": "phone_e164"},
            {"Phone": "n/a"},
            "INVALID_PHONE",
            "Phone",
        ),
        (
            {"source": "Other_Email__c", "target": "ALT_EMAIL", "format": "email"},
            {"Other_Email__c": "no-at-sign"},
            "INVALID_EMAIL",
            "Other_Email__c",
        ),
    ],
)
def test_each_failure_has_its_code(field, row, code, reported):
    m = make_mapping(fields=[field])
    r = transform_chunk(
        chunk(m, [{"Email": "a@example.com", **row}, {"Email": "b@example.com", "LastName": "Ok"}]), m
    )
    _assert_partition(r)
    assert r.rejects[["row", "field", "error_code"]].values.tolist() == [[0, reported, code]]
    assert r.valid["row"].tolist() == [1]


def test_identifier_failures():
    m = make_mapping()
    rows = [
        {"Email": "not-an-email"},  # INVALID_EMAIL
        {"Email": "", "MobilePhone": ""},  # MISSING_IDENTIFIER
        {"Email": "", "MobilePhone": "12"},  # fallback present but INVALID_PHONE
        {"Email": "", "MobilePhone": "+447700900123"},  # SMS-only contact: matched on mobile
        {"Email": "ok@example.com", "MobilePhone": "garbage"},  # a bad secondary identifier rejects too
    ]
    r = transform_chunk(chunk(m, rows), m)
    _assert_partition(r)
    assert r.rejects[["row", "error_code"]].values.tolist() == [
        [0, "INVALID_EMAIL"],
        [1, "MISSING_IDENTIFIER"],
        [2, "INVALID_PHONE"],
        [4, "INVALID_PHONE"],
    ]
    v = r.valid.iloc[0]
    assert (v["row"], v["match_identifier"], v["mobile_number"]) == (3, "mobile_number", "+447700900123")
    assert pd.isna(v["email"])


def test_several_failures_count_once():
    m = make_mapping(
        fields=[
            {"source": "Loyalty_Points__c", "target": "POINTS", "type": "numeric"},
            {"source": "Birthdate", "target": "BIRTHDAY", "type": "date"},
        ]
    )
    r = transform_chunk(chunk(m, [{"Email": "bad", "Loyalty_Points__c": "x", "Birthdate": "y"}]), m)
    assert len(r.rejects) == 3
    assert r.counts()["rejected"] == 1
    assert r.rejects_by_code() == {"INVALID_EMAIL": 1, "INVALID_NUMBER": 1, "INVALID_DATE": 1}


def test_duplicate_identifier_keeps_most_recent():
    m = make_mapping()
    rows = [
        {"Email": "dup@example.com", "FirstName": "old", "SystemModstamp": "2026-01-01T00:00:00.000+0000"},
        {"Email": "DUP@example.com", "FirstName": "new", "SystemModstamp": "2026-01-02T00:00:00.000+0000"},
        {"Email": "dup@example.com", "FirstName": "mid", "SystemModstamp": "2026-01-01T12:00:00.000+0000"},
    ]
    r = transform_chunk(chunk(m, rows), m)
    _assert_partition(r)
    assert r.valid["FIRSTNAME"].tolist() == ["new"]
    assert r.rejects[["row", "error_code", "field"]].values.tolist() == [
        [0, "DUPLICATE_IDENTIFIER", "Email"],
        [2, "DUPLICATE_IDENTIFIER", "Email"],
    ]
    assert r.rejects["value_preview"].tolist() == ["d***@example.com"] * 2


def test_an_invalid_newer_duplicate_does_not_hide_the_valid_older_one():
    m = make_mapping(fields=[{"source": "Birthdate", "target": "BIRTHDAY", "type": "date"}])
    rows = [
        {"Email": "a@example.com", "SystemModstamp": "2026-01-01T00:00:00.000+0000"},
        {"Email": "a@example.com", "Birthdate": "bad", "SystemModstamp": "2026-01-02T00:00:00.000+0000"},
    ]
    r = transform_chunk(chunk(m, rows), m)
    assert r.valid["row"].tolist() == [0]
    assert r.rejects["error_code"].tolist() == ["INVALID_DATE"]


def test_leading_formula_characters_pass_through_unchanged():
    m = make_mapping(
        fields=[{"source": "FirstName", "target": "FIRSTNAME"}, {"source": "Title", "target": "TITLE"}]
    )
    rows = [
        {"Email": f"u{i}@example.com", "FirstName": v, "Title": v}
        for i, v in enumerate(["=SUM(A1)", "+44", "-minus", "@handle"])
    ]
    r = transform_chunk(chunk(m, rows), m)
    assert r.rejects.empty
    assert r.valid["FIRSTNAME"].tolist() == ["=SUM(A1)", "+44", "-minus", "@handle"]


def test_deleted_records_are_removed_or_skipped():
    m = make_mapping()
    rows = [
        {"Email": "gone@example.com", "IsDeleted": "true"},
        {"Email": "bad", "IsDeleted": "true"},
        {"Email": "here@example.com"},
    ]
    r = transform_chunk(chunk(m, rows), m)
    _assert_partition(r)
    assert r.deleted[["row", "identifier"]].values.tolist() == [[0, "gone@example.com"], [1, "bad"]]
    ignore = make_mapping(source={"object": "Contact", "deleted": "ignore"})
    r = transform_chunk(chunk(ignore, rows), ignore)
    _assert_partition(r)
    assert r.deleted.empty
    assert r.skipped[["row", "rule"]].values.tolist() == [[0, "deleted_ignored"], [1, "deleted_ignored"]]


def test_lead_precedence_rules(shipped):
    lead = shipped["lead"]
    rows = [
        {"Email": "conv@example.com", "IsConverted": "true", "LastName": "A", "Status": "Closed - Converted"},
        {
            "Email": "Owned@Example.com",
            "IsConverted": "false",
            "LastName": "B",
            "Status": "Working - Contacted",
        },
        {
            "Email": "lead@example.com",
            "IsConverted": "false",
            "LastName": "C",
            "Status": "Open - Not Contacted",
            "Interests__c": "Yoga;Running",
            "Rating": "",
            "HasOptedOutOfEmail": "true",
        },
    ]
    r = transform_chunk(chunk(lead, rows), lead, owned_identifiers=["owned@example.com", None])
    _assert_partition(r)
    assert r.skipped[["row", "rule"]].values.tolist() == [
        [0, "converted_lead"],
        [1, "email_owned_by_contact"],
    ]
    v = r.valid.iloc[0]
    assert (v["LEAD_STATUS"], v["INTERESTS"], v["LEAD_RATING"], v["email_status"]) == (
        "open",
        "running,yoga",
        "unrated",
        "unsubscribed",
    )
    # without the owners' emails the defer rule cannot apply; the converted rule still does
    r = transform_chunk(chunk(lead, rows), lead)
    assert r.skipped["rule"].tolist() == ["converted_lead"]


def test_segments_in_shipped_contact_mapping(shipped):
    contact = shipped["contact"]
    rows = [
        {
            "Email": "a@example.com",
            "Level__c": "Secondary",
            "LeadSource": "Phone Inquiry",
            "Interests__c": "Running;Hiking",
            "Account.Name": "Acme",
        },
        {"Email": "b@example.com", "Level__c": "Quaternary"},
        {"Email": "c@example.com", "Interests__c": "Running;Knitting"},
        {"Email": "d@example.com", "LeadSource": "Trade Show"},
    ]
    r = transform_chunk(chunk(contact, rows), contact)
    _assert_partition(r)
    assert r.rejects[["row", "field", "error_code"]].values.tolist() == [
        [1, "Level__c", "UNKNOWN_PICKLIST_VALUE"],
        [2, "Interests__c", "UNKNOWN_PICKLIST_VALUE"],
    ]
    a = r.valid.set_index("row").loc[0]
    assert (a["CONTACT_LEVEL"], a["LEAD_SOURCE"], a["COMPANY"]) == ("secondary", "phone", "Acme")
    assert [bool(a[c]) for c in ("INT_RUNNING", "INT_CYCLING", "INT_HIKING")] == [True, False, True]
    d = r.valid.set_index("row").loc[3]
    assert d["LEAD_SOURCE"] == "Trade Show"  # unmapped: keep
    assert d["LOYALTY_POINTS"] == 0  # default


def test_truncate_instead_of_reject():
    m = make_mapping(
        fields=[{"source": "Title", "target": "TITLE", "max_length": 5, "on_too_long": "truncate"}]
    )
    r = transform_chunk(chunk(m, [{"Email": "a@example.com", "Title": "Director"}]), m)
    assert r.valid["TITLE"].tolist() == ["Direc"]


def test_custom_date_format():
    m = make_mapping(
        fields=[{"source": "Joined__c", "target": "JOINED", "type": "date", "date_format": "%d/%m/%Y"}]
    )
    r = transform_chunk(
        chunk(
            m,
            [
                {"Email": "a@example.com", "Joined__c": "31/12/2024"},
                {"Email": "b@example.com", "Joined__c": "2024-12-31"},
            ],
        ),
        m,
    )
    assert r.valid["JOINED"].tolist() == [pd.Timestamp("2024-12-31", tz="UTC")]
    assert r.rejects["error_code"].tolist() == ["INVALID_DATE"]


def test_previews_never_carry_long_values_or_whole_emails():
    m = make_mapping(fields=[{"source": "Title", "target": "TITLE", "max_length": 5}])
    r = transform_chunk(
        chunk(m, [{"Email": "john.smith@example", "Title": "A very long job title indeed"}]), m
    )
    previews = dict(zip(r.rejects["error_code"], r.rejects["value_preview"], strict=True))
    assert previews["INVALID_EMAIL"] == "j***@example"
    assert (
        len(previews["VALUE_TOO_LONG"]) <= 20 and previews["VALUE_TOO_LONG"] != "A very long job title indeed"
    )


def test_missing_source_column_is_an_error_not_a_reject():
    m = make_mapping()
    df = chunk(m, [{"Email": "a@example.com"}]).drop(columns=["FirstName"])
    with pytest.raises(KeyError, match="FirstName"):
        transform_chunk(df, m)


def test_empty_chunk():
    m = make_mapping()
    r = transform_chunk(chunk(m, []), m)
    assert r.counts() == {"read": 0, "valid": 0, "rejected": 0, "skipped": 0, "deleted": 0}


def test_large_mixed_chunk_partitions_exactly(shipped):
    contact = shipped["contact"]
    n = 5000
    rng = np.random.default_rng(7)
    rows = pd.DataFrame(
        {
            "Email": [f"user{i % 4900}@example.com" if i % 97 else "broken" for i in range(n)],
            "IsDeleted": rng.choice(["false", "true"], n, p=[0.97, 0.03]),
            "Level__c": rng.choice(["Primary", "Bogus", ""], n, p=[0.6, 0.02, 0.38]),
            "Birthdate": rng.choice(["1980-01-01", "nope", ""], n, p=[0.5, 0.01, 0.49]),
            "Interests__c": rng.choice(["Running;Yoga", "", "Swimming"], n),
        }
    )
    df = chunk(contact, rows.to_dict("records"))
    r = transform_chunk(df, contact)
    _assert_partition(r)
    assert not r.valid["email"].duplicated().any()
    assert set(r.rejects_by_code()) <= {
        "INVALID_EMAIL",
        "UNKNOWN_PICKLIST_VALUE",
        "INVALID_DATE",
        "DUPLICATE_IDENTIFIER",
    }


def test_transform_modules_import_no_heavy_library_at_module_level():
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys; import sfdd.transform.pipeline, sfdd.transform.payload, sfdd.transform.schema; "
        "print(','.join(m for m in ('pandas', 'pandera', 'pyarrow', 'numpy') if m in sys.modules))"
    )
    plugins = Path(__file__).resolve().parents[3] / "plugins"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(plugins)},
    )
    assert out.stdout.strip() == ""
