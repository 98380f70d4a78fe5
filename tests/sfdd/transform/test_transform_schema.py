import pandas as pd
import pandera.pandas as pa
import pytest

from sfdd.transform.schema import build_schema, staged_columns

from .conftest import make_mapping


def test_schema_has_a_column_per_staged_value_with_code_named_checks():
    m = make_mapping(
        fields=[
            {"source": "Loyalty_Points__c", "target": "POINTS", "type": "numeric"},
            {"source": "LastName", "target": "LASTNAME", "required": True},
        ],
        segments={
            "picklists": [
                {"source": "Level__c", "target": "LEVEL", "value_map": {"Primary": "p"}, "unmapped": "reject"}
            ]
        },
    )
    schema = build_schema(m)
    assert list(schema.columns) == [
        "match_identifier",
        "email",
        "mobile_number",
        "POINTS",
        "LASTNAME",
        "__picklist_0",
        "LEVEL",
    ]
    assert [c.name for c in schema.columns["POINTS"].checks] == ["INVALID_NUMBER"]
    assert schema.columns["LASTNAME"].nullable is False
    assert [c.output for c in staged_columns(m) if c.name.startswith("__")] == [False]


def test_lazy_validation_collects_every_failure():
    m = make_mapping(fields=[{"source": "Loyalty_Points__c", "target": "POINTS", "type": "numeric"}])
    staged = pd.DataFrame(
        {
            "match_identifier": ["email", None],
            "email": ["bad", None],
            "mobile_number": [None, "12"],
            "POINTS": ["x", "1"],
        },
        dtype="str",
    )
    with pytest.raises(pa.errors.SchemaErrors) as exc:
        build_schema(m).validate(staged, lazy=True)
    fc = exc.value.failure_cases
    got = sorted(zip(fc["column"], fc["check"], fc["index"].astype(int), strict=True))
    assert got == [
        ("POINTS", "INVALID_NUMBER", 0),
        ("email", "INVALID_EMAIL", 0),
        ("match_identifier", "not_nullable", 1),
        ("mobile_number", "INVALID_PHONE", 1),
    ]
