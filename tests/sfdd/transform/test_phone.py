import pandas as pd
import pytest

from sfdd.transform.phone import is_e164, normalise_e164


@pytest.mark.parametrize(
    ("raw", "cc", "expected"),
    [
        ("+44 7700 900123", None, "+447700900123"),
        ("0044 7700-900-123", None, "+447700900123"),
        ("+44 (0)7700 900123", None, "+447700900123"),
        ("07700 900123", "44", "+447700900123"),
        ("(415) 555-0100", "1", "+14155550100"),
        ("+1.415.555.0100", None, "+14155550100"),
    ],
)
def test_readable_numbers(raw, cc, expected):
    out = normalise_e164(pd.Series([raw], dtype="str"), cc)
    assert out.iloc[0] == expected and is_e164(out).all()


@pytest.mark.parametrize(
    ("raw", "cc"),
    [
        ("07700 900123", None),
        ("call me", "44"),
        ("+44 7700 900123 x12", None),
        ("+0 123456789", None),
        ("+1234", None),
        ("+1234567890123456", None),
    ],
)
def test_unreadable_numbers_stay_as_given_and_fail(raw, cc):
    out = normalise_e164(pd.Series([raw], dtype="str"), cc)
    assert not is_e164(out).any()


def test_missing_stays_missing():
    out = normalise_e164(pd.Series([None, "+447700900123"], dtype="str"), "44")
    assert out.isna().tolist() == [True, False]
