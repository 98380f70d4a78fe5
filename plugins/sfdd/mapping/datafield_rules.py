"""Dotdigital's rules for contact data field names and types.

Dotdigital refuses to create a data field whose name breaks these rules, and it refuses the whole
import when a payload names a field that does not exist. Checking names when a mapping is loaded
turns a failed run in the middle of the night into an error a user sees while editing YAML.

Sources: the data-fields OpenAPI document (``name``: ``[a-zA-Z0-9_-]{1,20}``, max 20 characters;
``type``: String | Numeric | Date | Boolean) and the restricted names listed in
../shared/reference/dotdigital-api.md §4.
"""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 20
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,20}$")

#: The data field types Dotdigital knows (GET/POST /v2/data-fields ``type``).
DATAFIELD_TYPES = ("String", "Numeric", "Date", "Boolean")

#: Names Dotdigital does not allow for custom data fields (compared case-insensitively).
RESERVED_NAMES = frozenset(
    {
        "account",
        "campaign",
        "campaignid",
        "contact",
        "contact_api_id",
        "contactid",
        "email",
        "hcontactid",
        "hemail",
        "hemail256",
        "id",
        "messagecontent",
        "mobilenumberid",
        "notes",
        "unsubscribed",
        "uniquecontactid",
    }
)

#: The columns the transform step puts before the data fields in a valid-rows file, in order: the
#: record, its identifiers and its channel statuses (the payload builder reads them from index 2 on).
PIPELINE_LEAD_COLUMNS = (
    "sf_id",
    "row",
    "email",
    "mobile_number",
    "match_identifier",
    "email_status",
    "sms_status",
    "email_opt_in_type",
)

#: Column names the transform step itself uses; a data field with one of these names (in any case)
#: would be ambiguous in the valid-rows files.
PIPELINE_COLUMNS = frozenset({*PIPELINE_LEAD_COLUMNS, "change_stamp"})

#: Dotdigital's text data field limit. Sources disagree (255 vs 1,000 characters); 255 is the
#: figure that holds in every account, so it is the default ceiling for string fields.
STRING_MAX_LENGTH = 255


def datafield_name_problem(name: object) -> str | None:
    """Say why ``name`` cannot be a Dotdigital data field name, or return None when it can."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return (
            f"{name!r} is not a valid Dotdigital data field name "
            f"(letters, digits, _ and - only, at most {MAX_NAME_LENGTH} characters)"
        )
    if name.lower() in RESERVED_NAMES:
        return f"{name!r} is a reserved Dotdigital name and cannot be used for a data field"
    if name.lower() in PIPELINE_COLUMNS:
        return f"{name!r} clashes with a column the sync uses itself; choose another data field name"
    return None


def check_datafield_name(name: str) -> str:
    """Return ``name`` unchanged or raise ValueError naming the broken rule."""
    problem = datafield_name_problem(name)
    if problem:
        raise ValueError(problem)
    return name
