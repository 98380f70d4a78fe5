import pytest

from sfdd.mapping.datafield_rules import check_datafield_name, datafield_name_problem


@pytest.mark.parametrize("name", ["FIRSTNAME", "first_name", "A-1", "X" * 20, "INT_RUNNING"])
def test_valid_names(name):
    assert datafield_name_problem(name) is None
    assert check_datafield_name(name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("First Name!", "letters, digits, _ and - only"),
        ("X" * 21, "at most 20 characters"),
        ("", "not a valid"),
        ("EMAIL", "reserved"),
        ("ContactId", "reserved"),
        ("unsubscribed", "reserved"),
        ("email_status", "clashes with a column"),
    ],
)
def test_invalid_names_say_why(name, fragment):
    problem = datafield_name_problem(name)
    assert problem is not None and fragment in problem
    with pytest.raises(ValueError, match="data field|reserved|clashes"):
        check_datafield_name(name)
