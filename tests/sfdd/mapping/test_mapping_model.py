from datetime import timedelta

import pytest

from sfdd.mapping.loader import MappingError, parse_mapping

from .conftest import minimal


def test_defaults_fill_in():
    m = parse_mapping(minimal())
    assert m.schedule == "0 * * * *"
    assert m.source.change_field == "SystemModstamp"
    assert m.source.lookback == timedelta(minutes=10)
    assert m.source.deleted == "remove"
    assert m.target.identifier == "email" and m.target.email_field == "Email"
    assert m.target.merge_option == "overwrite"
    assert m.reject_threshold == 0.05 and m.chunk_size == 50_000
    assert m.fields[0].trim is True and m.fields[0].type == "string"
    assert m.fields[0].effective_max_length == 255


@pytest.mark.parametrize(
    ("text", "expected"), [("15m", 15 * 60), ("2h", 7200), ("1d", 86400), ("30s", 30), (90, 90)]
)
def test_lookback_durations(text, expected):
    data = minimal()
    data["source"]["lookback"] = text
    assert parse_mapping(data).source.lookback.total_seconds() == expected


def _error(data) -> str:
    with pytest.raises(MappingError) as exc:
        parse_mapping(data, "m.yaml")
    return str(exc.value)


def test_invalid_target_name_names_file_key_and_reason():
    data = minimal()
    data["fields"] = [{"source": f"F{i}", "target": f"T{i}"} for i in range(3)]
    data["fields"].append({"source": "FirstName", "target": "First Name!"})
    assert _error(data) == (
        "m.yaml: fields[3].target: 'First Name!' is not a valid Dotdigital data field name "
        "(letters, digits, _ and - only, at most 20 characters)"
    )


def test_duplicate_targets_are_rejected_case_insensitively():
    data = minimal()
    data["fields"].append({"source": "LastName", "target": "firstname"})
    assert "fields[1].target: data field 'firstname' is already written by fields[0].target" in _error(data)


def test_duplicate_between_field_and_segment():
    data = minimal()
    data["segments"] = {"picklists": [{"source": "Level__c", "target": "FIRSTNAME"}]}
    assert "segments.picklists[0].target" in _error(data)


def test_unknown_key_is_reported_with_its_path():
    data = minimal()
    data["fields"][0]["sorce"] = "x"
    assert "m.yaml: fields[0].sorce: unknown key" in _error(data)


def test_missing_required_key():
    data = minimal()
    del data["source"]
    assert "m.yaml: source: required key is missing" in _error(data)


@pytest.mark.parametrize(
    ("patch", "fragment"),
    [
        ({"name": "Contact Sync"}, "name: 'Contact Sync' must be snake_case"),
        ({"schedule": "every hour"}, "schedule: 'every hour' is not a 5-field cron"),
        ({"reject_threshold": 1.5}, "reject_threshold"),
        ({"phone_country_code": "+44"}, "phone_country_code"),
        ({"source": {"object": "Contact", "deleted": "purge"}}, "source.deleted"),
        ({"source": {"object": "Contact", "lookback": "10 minutes"}}, "source.lookback"),
        (
            {"source": {"object": "Contact", "filter": "Email != null; DELETE"}},
            "source.filter: ';' is not allowed",
        ),
        ({"source": {"object": "Contact", "filter": "(A = 1"}}, "source.filter: unbalanced parentheses"),
        ({"source": {"object": "Contact", "filter": "A = 1 LIMIT 5"}}, "source.filter: write only a WHERE"),
        ({"source": {"object": "Contact", "change_field": "Bad Field"}}, "source.change_field"),
        ({"target": {"address_books": []}}, "target.address_books"),
        ({"target": {"address_books": ["Test"]}}, "reserved Dotdigital address book"),
        (
            {"target": {"address_books": ["A"], "identifier": "mobile_number"}},
            "target.identifier: 'mobile_number' needs",
        ),
        ({"target": {"address_books": ["A"], "email_field": None}}, "target.identifier: 'email' needs"),
        ({"target": {"address_books": ["A"], "merge_option": "Overwrite"}}, "target.merge_option"),
        ({"fields": [{"source": "X", "target": "X", "type": "text"}]}, "fields[0].type"),
        (
            {"fields": [{"source": "X", "target": "X", "type": "numeric", "case": "upper"}]},
            "case: only applies",
        ),
        (
            {"fields": [{"source": "X", "target": "X", "type": "numeric", "default": "zero"}]},
            "default: 'zero'",
        ),
        ({"fields": [{"source": "X", "target": "X", "date_format": "%d"}]}, "date_format: only applies"),
        ({"fields": [{"source": "X", "target": "X", "type": "date", "date_format": "dd/mm"}]}, "strftime"),
        ({"consent": {"sms": {"opt_out_field": "SMS_Opt_Out__c"}}}, "consent.sms: needs target.mobile_field"),
        ({"consent": {"email": {"opt_in_type": "Double"}}}, "needs at least one of"),
        (
            {"consent": {"email": {"opt_out_field": "X", "opt_in_type": "double"}}},
            "consent.email.opt_in_type",
        ),
    ],
)
def test_invalid_values_are_named(patch, fragment):
    data = {**minimal(), **patch}
    assert fragment in _error(data)


def test_segment_rules():
    data = minimal()
    data["segments"] = {"multiselects": [{"source": "Interests__c", "mode": "booleans"}]}
    assert "values: mode 'booleans' needs values" in _error(data)
    data["segments"] = {"multiselects": [{"source": "Interests__c", "mode": "joined"}]}
    assert "target: mode 'joined' needs a target" in _error(data)
    data["segments"] = {"picklists": [{"source": "Level__c", "target": "LEVEL", "unmapped": "default"}]}
    assert "default: required when unmapped is 'default'" in _error(data)


def test_source_fields_cover_everything_once():
    data = minimal()
    data["target"] = {
        "address_books": ["A"],
        "mobile_field": "MobilePhone",
        "fallback_identifier": "mobile_number",
    }
    data["fields"] = [
        {"source": "FirstName", "target": "FIRSTNAME"},
        {"source": "Account.Name", "target": "COMPANY"},
        {"source": "firstname", "target": "FIRSTNAME2"},
    ]
    data["segments"] = {
        "picklists": [{"source": "Level__c", "target": "LEVEL"}],
        "multiselects": [{"source": "Interests__c", "mode": "booleans", "values": {"Yoga": "INT_YOGA"}}],
    }
    data["consent"] = {
        "email": {
            "opt_out_field": "HasOptedOutOfEmail",
            "consent_timestamp_field": "Email_Consent_Date__c",
            "consent_timestamp_target": "CONSENT_AT",
        },
        "sms": {"opt_out_field": "SMS_Opt_Out__c"},
    }
    data["precedence"] = {"skip_if": {"converted": "IsConverted"}}
    m = parse_mapping(data)
    assert m.source_fields() == [
        "Id",
        "SystemModstamp",
        "IsDeleted",
        "Email",
        "MobilePhone",
        "FirstName",
        "Account.Name",
        "Level__c",
        "Interests__c",
        "HasOptedOutOfEmail",
        "Email_Consent_Date__c",
        "SMS_Opt_Out__c",
        "IsConverted",
    ]
    assert m.datafields() == {
        "FIRSTNAME": "String",
        "COMPANY": "String",
        "FIRSTNAME2": "String",
        "LEVEL": "String",
        "INT_YOGA": "Boolean",
        "CONSENT_AT": "Date",
    }


def test_datetime_maps_to_dotdigital_date():
    data = minimal()
    data["fields"].append({"source": "LastModifiedDate", "target": "MODIFIED", "type": "datetime"})
    assert parse_mapping(data).datafields()["MODIFIED"] == "Date"


def test_mapping_is_frozen():
    m = parse_mapping(minimal())
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for frozen models
        m.name = "other"
