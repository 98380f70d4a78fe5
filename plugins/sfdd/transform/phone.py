"""Phone numbers to E.164 (``+`` country code and subscriber number, at most 15 digits).

Hand-written and vectorised rather than a full numbering-plan library: the sync only needs a
canonical, unambiguous form for Dotdigital's ``mobileNumber`` identifier. A number written
internationally (``+44 7700 900123``, ``0044 7700 900123``) is kept; a national number
(``07700 900123``) is accepted only when the mapping names ``phone_country_code``, because
guessing the country would attach one person's number to another. Anything else is invalid.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

E164 = re.compile(r"^\+[1-9]\d{7,14}$")  # 8-15 digits, as Dotdigital accepts
E164_PATTERN = E164.pattern
# Separators people type inside phone numbers; an extension ("x123", "ext. 5") makes it invalid.
_SEPARATORS = r"[\s\-\.\(\)/]"


def normalise_e164(values: pd.Series, country_code: str | None = None) -> pd.Series:
    """Return each value in E.164 where it can be read as one, else the value as given.

    Callers validate the result with ``E164`` (the transform schema does); keeping invalid
    values as given lets a reject show what was wrong.
    """
    import pandas as pd

    stripped = values.str.strip()
    compact = stripped.str.replace(_SEPARATORS, "", regex=True)
    out = pd.Series(pd.NA, index=values.index, dtype="object")

    intl_plus = compact.str.match(r"^\+\d+$", na=False)
    out[intl_plus] = compact[intl_plus]
    intl_00 = compact.str.match(r"^00[1-9]\d+$", na=False)
    out[intl_00] = "+" + compact[intl_00].str.slice(2)
    if country_code:
        national = compact.str.match(r"^0?[1-9]\d+$", na=False) & ~intl_00
        out[national] = "+" + country_code + compact[national].str.replace(r"^0", "", regex=True)
        # "(0)" trunk prefix written inside an international number: +44 (0)7700 900123
    trunk = stripped.str.match(r"^\+\d+\s*\(0\)", na=False)
    out[trunk] = "+" + stripped[trunk].str.replace(r"\(0\)", "", regex=True).str.replace(
        r"\D", "", regex=True
    )

    unreadable = out.isna() & values.notna()
    out[unreadable] = stripped[unreadable]
    return out.astype("str").where(values.notna())


def is_e164(values: pd.Series) -> pd.Series:
    return values.str.match(E164_PATTERN, na=False)
