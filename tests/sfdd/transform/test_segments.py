import pandas as pd

from sfdd.mapping.model import MultiselectSegment, PicklistSegment
from sfdd.transform.segments import (
    multiselect_booleans,
    multiselect_joined,
    picklist_values,
    unknown_multiselect_values,
)


def s(*values):
    return pd.Series(list(values), dtype="str")


def test_picklist_value_map_and_policies():
    raw = s("Hot", "Lukewarm", None)
    keep = PicklistSegment(source="Rating", target="R", value_map={"Hot": "hot"})
    assert picklist_values(raw, keep).tolist()[:2] == ["hot", "Lukewarm"]
    assert pd.isna(picklist_values(raw, keep).iloc[2])
    default = PicklistSegment(
        source="Rating", target="R", value_map={"Hot": "hot"}, unmapped="default", default="unrated"
    )
    assert picklist_values(raw, default).tolist() == ["hot", "unrated", "unrated"]


def test_multiselect_booleans_absent_values_are_false():
    seg = MultiselectSegment(
        source="Interests__c", mode="booleans", values={"Running": "INT_RUN", "Yoga": "INT_YOGA"}
    )
    out = multiselect_booleans(s("Running;Yoga", "Yoga", None, "Running Club"), seg)
    assert out["INT_RUN"].tolist() == [True, False, False, False]
    assert out["INT_YOGA"].tolist() == [True, True, False, False]


def test_multiselect_joined_is_mapped_deduplicated_and_sorted():
    seg = MultiselectSegment(
        source="Interests__c",
        mode="joined",
        target="INTERESTS",
        separator=",",
        value_map={"Running": "running", "Yoga": "yoga"},
    )
    out = multiselect_joined(s("Yoga;Running", "Running;Yoga;Yoga", "Knitting", None), seg)
    assert out.tolist()[:3] == ["running,yoga", "running,yoga", "Knitting"]
    assert pd.isna(out.iloc[3])
    ignore = seg.model_copy(update={"unmapped": "ignore"})
    assert pd.isna(multiselect_joined(s("Knitting"), ignore).iloc[0])


def test_unknown_multiselect_values():
    out = unknown_multiselect_values(s("Running;Yoga", "Running;Knitting", None), {"Running", "Yoga"})
    assert out.tolist() == [False, True, False]
