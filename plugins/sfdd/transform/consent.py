"""Salesforce consent flags to Dotdigital channel statuses, one channel at a time.

The rule never widens consent:

* an opt-out flag that is true makes the channel ``unsubscribed``;
* otherwise the channel is ``subscribed`` only when the opt-in flag is true, or when the mapping
  says ``subscribe_when_not_opted_out``;
* otherwise the status is left out (None), and Dotdigital keeps what it holds.

``subscribed`` is sent without ``resubscribeOptions``, so it can add a new contact as subscribed
but cannot bring back one Dotdigital holds as unsubscribed or suppressed; the payload builder
never writes ``resubscribeOptions``. Email and SMS are decided independently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sfdd.transform.frame import TRUE_WORDS

if TYPE_CHECKING:
    import pandas as pd

    from sfdd.mapping.model import ChannelConsent

SUBSCRIBED = "subscribed"
UNSUBSCRIBED = "unsubscribed"

#: Dotdigital v3 request enum for channelProperties.email.optInType (lower camel case).
OPT_IN_TYPE_VALUES = {
    "Unknown": "unknown",
    "Single": "single",
    "Double": "double",
    "VerifiedDouble": "verifiedDouble",
}


def _flag(values: pd.Series | None) -> pd.Series | None:
    if values is None:
        return None
    return values.str.strip().str.lower().isin(TRUE_WORDS)


def channel_status(
    index: pd.Index,
    consent: ChannelConsent | None,
    opt_out: pd.Series | None,
    opt_in: pd.Series | None,
) -> pd.Series:
    """``subscribed`` / ``unsubscribed`` / NA per row for one channel."""
    import pandas as pd

    status = pd.Series(pd.NA, index=index, dtype="object")
    if consent is None:
        return status.astype("str").where(status.notna())
    opted_out = _flag(opt_out)
    opted_in = _flag(opt_in)
    if consent.subscribe_when_not_opted_out:
        status[:] = SUBSCRIBED
    elif opted_in is not None:
        status[opted_in] = SUBSCRIBED
    if opted_out is not None:
        status[opted_out] = UNSUBSCRIBED
    return status.astype("str").where(status.notna())
