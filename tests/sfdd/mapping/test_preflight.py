import pytest

from sfdd.mapping.loader import load_mappings, parse_mapping
from sfdd.mapping.preflight import check_against_datafields, check_against_describe, errors_only

from .conftest import minimal


def _field(name, type_, **extra):
    return {
        "name": name,
        "type": type_,
        "length": extra.pop("length", 0),
        "picklistValues": extra.pop("values", []),
        "relationshipName": extra.pop("rel", None),
        "referenceTo": extra.pop("ref", []),
        **extra,
    }


def _values(*vals):
    return [{"active": True, "value": v, "label": v, "defaultValue": False, "validFor": None} for v in vals]


def contact_describe():
    return {
        "name": "Contact",
        "fields": [
            _field("Id", "id", length=18),
            _field("IsDeleted", "boolean"),
            _field("SystemModstamp", "datetime"),
            _field("Email", "email", length=80),
            _field("MobilePhone", "phone", length=40),
            _field("FirstName", "string", length=40),
            _field("LastName", "string", length=80),
            _field("Title", "string", length=128),
            _field("Description", "textarea", length=32000),
            _field("Birthdate", "date"),
            _field("AccountId", "reference", length=18, rel="Account", ref=["Account"]),
            _field("Loyalty_Points__c", "double"),
            _field("Level__c", "picklist", length=255, values=_values("Primary", "Secondary", "Tertiary")),
            _field(
                "LeadSource",
                "picklist",
                values=_values("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"),
            ),
            _field(
                "Interests__c",
                "multipicklist",
                length=4099,
                values=_values("Running", "Cycling", "Swimming", "Yoga", "Hiking"),
            ),
            _field("HasOptedOutOfEmail", "boolean"),
            _field("SMS_Opt_Out__c", "boolean"),
            _field("Email_Consent_Date__c", "datetime"),
        ],
    }


ACCOUNT = {"name": "Account", "fields": [_field("Id", "id"), _field("Name", "string", length=255)]}


def test_shipped_contact_mapping_passes(shipped_dir):
    mapping = load_mappings(shipped_dir)["contact"]
    assert errors_only(check_against_describe(mapping, contact_describe(), {"Account": ACCOUNT})) == []


def test_unknown_field_is_named():
    data = minimal()
    data["fields"].append({"source": "Shoe_Size__c", "target": "SHOE_SIZE"})
    problems = check_against_describe(parse_mapping(data), contact_describe())
    assert [(p.code, p.where) for p in problems] == [("UNKNOWN_FIELD", "fields[1].source")]
    assert "Shoe_Size__c" in problems[0].message


def test_field_names_are_case_insensitive():
    data = minimal()
    data["fields"] = [{"source": "firstname", "target": "FIRSTNAME"}]
    assert check_against_describe(parse_mapping(data), contact_describe()) == []


def test_type_mismatch():
    data = minimal()
    data["fields"] = [
        {"source": "FirstName", "target": "N", "type": "numeric"},
        {"source": "Title", "target": "B", "type": "boolean"},
        {"source": "Birthdate", "target": "D", "type": "date"},
    ]
    problems = check_against_describe(parse_mapping(data), contact_describe())
    assert [(p.code, p.where) for p in problems] == [
        ("TYPE_MISMATCH", "fields[0].source"),
        ("TYPE_MISMATCH", "fields[1].source"),
    ]


def test_parent_field_checked_through_relationship():
    data = minimal()
    data["fields"] = [
        {"source": "Account.Name", "target": "COMPANY"},
        {"source": "Account.Nope", "target": "X"},
        {"source": "Owner.Name", "target": "OWNER"},
    ]
    problems = check_against_describe(parse_mapping(data), contact_describe(), {"Account": ACCOUNT})
    assert [(p.code, p.where) for p in problems] == [
        ("UNKNOWN_FIELD", "fields[1].source"),
        ("UNKNOWN_FIELD", "fields[2].source"),
    ]
    # without the parent describe only the relationship can be checked
    problems = check_against_describe(parse_mapping(data), contact_describe())
    assert [p.where for p in problems] == ["fields[2].source"]


def test_picklist_values_must_exist():
    data = minimal()
    data["segments"] = {
        "picklists": [
            {"source": "Level__c", "target": "LEVEL", "value_map": {"Primary": "p", "Quaternary": "q"}}
        ],
        "multiselects": [
            {
                "source": "Interests__c",
                "mode": "booleans",
                "values": {"Knitting": "INT_KNIT", "Yoga": "INT_YOGA"},
            }
        ],
    }
    problems = check_against_describe(parse_mapping(data), contact_describe())
    assert {(p.code, p.where) for p in problems} == {
        ("UNKNOWN_PICKLIST_VALUE", "segments.picklists[0].value_map.Quaternary"),
        ("UNKNOWN_PICKLIST_VALUE", "segments.multiselects[0].values.Knitting"),
    }


def test_uncovered_values_with_reject_policy_warn():
    data = minimal()
    data["segments"] = {
        "picklists": [
            {"source": "Level__c", "target": "LEVEL", "value_map": {"Primary": "p"}, "unmapped": "reject"}
        ]
    }
    problems = check_against_describe(parse_mapping(data), contact_describe())
    assert [(p.code, p.severity) for p in problems] == [("UNMAPPED_PICKLIST_VALUE", "warning")]
    assert errors_only(problems) == []


def test_change_field_must_be_datetime_and_consent_boolean():
    data = minimal()
    data["source"]["change_field"] = "Birthdate"
    data["consent"] = {"email": {"opt_out_field": "Email"}}
    problems = check_against_describe(parse_mapping(data), contact_describe())
    assert [(p.code, p.where) for p in problems] == [
        ("TYPE_MISMATCH", "source.change_field"),
        ("TYPE_MISMATCH", "consent.email.opt_out_field"),
    ]


def test_describe_of_another_object():
    data = minimal()
    data["source"]["object"] = "Lead"
    problems = check_against_describe(parse_mapping(data), contact_describe())
    assert problems[0].code == "OBJECT_MISMATCH"


@pytest.fixture
def mapping():
    data = minimal()
    data["fields"] = [
        {"source": "FirstName", "target": "FIRSTNAME"},
        {"source": "Birthdate", "target": "BIRTHDAY", "type": "date"},
        {"source": "Loyalty_Points__c", "target": "POINTS", "type": "numeric"},
    ]
    return parse_mapping(data)


def test_datafields_to_create_and_clashes(mapping):
    existing = [
        {"name": "FIRSTNAME", "type": "String", "visibility": "Public", "defaultValue": None},
        {"name": "points", "type": "String", "visibility": "Private", "defaultValue": None},
    ]
    to_create, clashes = check_against_datafields(mapping, existing)
    assert to_create == [{"name": "BIRTHDAY", "type": "Date", "visibility": "Private", "defaultValue": None}]
    assert [(c.code, c.where) for c in clashes] == [("DATAFIELD_TYPE_CLASH", "fields[2].target")]
    assert "'points' is String, the mapping writes Numeric" in clashes[0].message


def test_nothing_to_do_when_all_exist(mapping):
    existing = [
        {"name": n, "type": t, "visibility": "Private", "defaultValue": None}
        for n, t in (("FIRSTNAME", "String"), ("BIRTHDAY", "Date"), ("POINTS", "Numeric"))
    ]
    assert check_against_datafields(mapping, existing) == ([], [])
