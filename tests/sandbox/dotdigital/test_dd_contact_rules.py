"""Typed data field rules of the Dotdigital emulator, including the shortcuts imports take for common values."""

import pytest

from sandbox.dotdigital.contacts import FieldTypeError, coerce, typed_fields

FIELDS = {"name": ("NAME", "String"), "points": ("POINTS", "Numeric"), "vip": ("VIP", "Boolean"),
          "born": ("BORN", "Date")}


@pytest.mark.parametrize(("value", "stored"), [
    ("2024-01-31", "2024-01-31T00:00:00"),
    ("2024-01-31T09:30:00Z", "2024-01-31T09:30:00"),
    ("2024-01-31 09:30:00", "2024-01-31T09:30:00"),
    ("2024-01-31T09:30:00+01:00", "2024-01-31T09:30:00"),
    ("2024-01-31T09:30:00.123Z", "2024-01-31T09:30:00"),
])
def test_dates_are_stored_without_zone(value, stored):
    assert coerce("Date", value) == stored


@pytest.mark.parametrize("value", ["2024-13-01", "2024-02-30T10:00:00Z", "2024-01-31T25:00:00Z", "20240131",
                                   "31/01/2024", "2024-01-31T09:30:00ZZ", 20240131])
def test_impossible_or_malformed_dates_are_refused(value):
    with pytest.raises(FieldTypeError):
        coerce("Date", value)


def test_typed_fields_match_names_in_any_case_and_check_every_type():
    values, errors = typed_fields({"NAME": "Ada", "Points": 3, "vip": True, "BORN": "1990-05-01", "NAME2": "x"},
                                  {**FIELDS, **{v[0]: v for v in FIELDS.values()}})
    assert values == {"NAME": "Ada", "POINTS": 3, "VIP": True, "BORN": "1990-05-01T00:00:00"}
    assert errors == ["Data field 'NAME2' does not exist"]


@pytest.mark.parametrize(("key", "value", "message"), [
    ("name", "x" * 256, "longer than 255 characters"),
    ("points", True, "not a number"),
    ("points", "ten", "not a number"),
    ("vip", "maybe", "not a boolean"),
    ("born", "yesterday", "not a date with a 4-digit year"),
])
def test_typed_fields_reject_values_of_the_wrong_type(key, value, message):
    values, errors = typed_fields({key: value}, FIELDS)
    assert values == {} and errors == [f"Invalid value for data field '{key}': {message}"]


def test_none_clears_and_well_typed_values_pass_unchanged():
    values, errors = typed_fields({"name": None, "points": 2.5, "vip": False, "born": None}, FIELDS)
    assert errors == [] and values == {"NAME": None, "POINTS": 2.5, "VIP": False, "BORN": None}
