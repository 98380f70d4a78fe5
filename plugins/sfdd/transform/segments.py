"""Segmentation values: Salesforce picklists and multi-select picklists as Dotdigital data fields.

A picklist becomes one text field through a value map (``Primary`` -> ``primary``); a
multi-select (``Running;Cycling``) becomes either one boolean field per known value, which is
what segment builders filter on most easily, or one normalised joined text. Absent values write
``False`` to every boolean, so removing an interest in Salesforce clears it in Dotdigital too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from sfdd.mapping.model import MultiselectSegment, PicklistSegment

SF_MULTISELECT_SEPARATOR = ";"


def picklist_values(raw: pd.Series, seg: PicklistSegment) -> pd.Series:
    """The text written for a picklist. Unmapped values stay as they are (checked separately)."""
    mapped = raw.map(seg.value_map) if seg.value_map else raw.where(raw.isna())
    out = mapped.where(mapped.notna(), raw) if seg.unmapped != "default" else mapped
    if seg.default is not None:
        if seg.unmapped == "default":
            out = out.where(out.notna() | raw.isna(), seg.default)
        out = out.fillna(seg.default)
    return out.astype("str").where(out.notna())


def tokens(raw: pd.Series) -> pd.Series:
    """One row per selected value, indexed like ``raw`` (rows without a value drop out)."""
    exploded = raw.str.split(SF_MULTISELECT_SEPARATOR).explode().str.strip()
    return exploded[exploded.notna() & (exploded.str.len() > 0)]


def unknown_multiselect_values(raw: pd.Series, known: set[str]) -> pd.Series:
    """True for rows holding a value outside ``known`` (NaN rows count as fine).

    Worked out once per distinct selection, not per row: a 50,000-row chunk holds a few dozen.
    """
    bad = {text for text in raw.dropna().unique()
           if any(t.strip() and t.strip() not in known for t in str(text).split(SF_MULTISELECT_SEPARATOR))}
    return raw.isin(bad)


def multiselect_booleans(raw: pd.Series, seg: MultiselectSegment) -> dict[str, pd.Series]:
    """Data field name -> boolean column, one per value listed in ``seg.values`` (per distinct selection)."""
    selections = {text: set(re.sub(r"\s*;\s*", SF_MULTISELECT_SEPARATOR, str(text)).split(SF_MULTISELECT_SEPARATOR))
                  for text in raw.dropna().unique()}
    return {field_name: raw.isin([text for text, chosen in selections.items() if value in chosen]).astype("boolean")
            for value, field_name in seg.values.items()}


def multiselect_joined(raw: pd.Series, seg: MultiselectSegment) -> pd.Series:
    """The selected values mapped through ``value_map``, de-duplicated, sorted and joined.

    Sorting makes the text canonical: the same selection always gives the same string, whatever
    order Salesforce returned it in, so segment rules can compare it directly.
    """
    import numpy as np
    import pandas as pd

    toks = tokens(raw)
    if seg.value_map:
        mapped = toks.map(seg.value_map)
        toks = mapped.dropna() if seg.unmapped_policy == "ignore" else mapped.where(mapped.notna(), toks)
    elif seg.unmapped_policy == "ignore":
        toks = toks.iloc[0:0]
    joined = pd.Series("", index=raw.index, dtype="object")
    # A picklist has few distinct values: one vectorised pass per value beats a per-row join.
    for value in sorted(toks.unique()):
        has = raw.index.isin(toks.index[toks.to_numpy() == value])
        joined = joined + np.where(has, value + seg.separator, "")
    joined = joined.str.slice(0, -len(seg.separator))
    return joined.astype("str").where(joined.str.len() > 0)
