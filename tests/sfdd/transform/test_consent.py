import pandas as pd

from sfdd.mapping.model import EmailConsent
from sfdd.transform.consent import channel_status


def s(*values):
    return pd.Series(list(values), dtype="str")


def test_opt_out_unsubscribes_and_nothing_else_is_said_by_default():
    c = EmailConsent(opt_out_field="HasOptedOutOfEmail")
    out = channel_status(pd.RangeIndex(3), c, s("true", "false", None), None)
    assert out.iloc[0] == "unsubscribed"
    assert out.iloc[1:].isna().all()


def test_opt_in_field_subscribes_only_when_true_and_opt_out_wins():
    c = EmailConsent(opt_out_field="Out", opt_in_field="In")
    out = channel_status(
        pd.RangeIndex(4), c, s("false", "true", "false", None), s("true", "true", "false", None)
    )
    assert out.iloc[0] == "subscribed"
    assert out.iloc[1] == "unsubscribed"
    assert out.iloc[2:].isna().all()


def test_mapping_may_allow_subscribed_without_opt_in():
    c = EmailConsent(opt_out_field="Out", subscribe_when_not_opted_out=True)
    out = channel_status(pd.RangeIndex(2), c, s("false", "true"), None)
    assert out.tolist() == ["subscribed", "unsubscribed"]


def test_no_consent_config_says_nothing():
    assert channel_status(pd.RangeIndex(2), None, None, None).isna().all()
