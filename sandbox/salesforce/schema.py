"""The emulated org's data model: which sObjects exist, their fields, and their describe output.

Field names, types, lengths and key prefixes follow Salesforce's Object Reference for the standard
objects this project touches; custom objects and fields come from the defaults below plus an optional
``schema.json`` (entries shaped like describe's field entries). Everything the server validates and
every describe answer is derived from these definitions, so they are the single source of truth.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

# SQLite storage class per Salesforce field type.
SQL_TYPES = {
    "boolean": "INTEGER", "int": "INTEGER", "double": "REAL", "currency": "REAL", "percent": "REAL",
}
SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int", "double": "xsd:double",
    "currency": "xsd:double", "percent": "xsd:double", "date": "xsd:date", "datetime": "xsd:dateTime",
    "anyType": "xsd:anyType",
}
TEXT_TYPES = {"string", "email", "phone", "url", "picklist", "multipicklist", "textarea", "combobox",
              "id", "reference", "anyType"}
SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp")
INTERESTS = ["Running", "Cycling", "Swimming", "Yoga", "Hiking"]
LEAD_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
LEAD_STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"]
INDUSTRIES = ["Agriculture", "Apparel", "Banking", "Education", "Healthcare", "Hospitality", "Retail",
              "Technology", "Telecommunications", "Other"]
STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review",
          "Closed Won", "Closed Lost"]
TIERS = ["Bronze", "Silver", "Gold", "Platinum"]


@dataclass
class Field:
    name: str
    type: str
    length: int = 0
    label: str = ""
    picklist: list[str] = field(default_factory=list)
    restricted: bool = False
    external_id: bool = False
    unique: bool = False
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    default: object = None
    reference_to: list[str] = field(default_factory=list)
    relationship_name: str | None = None
    precision: int = 0
    scale: int = 0
    custom: bool = False
    calculated: bool = False

    @property
    def sql_type(self) -> str:
        return SQL_TYPES.get(self.type, "TEXT")

    @property
    def required(self) -> bool:
        """Salesforce's notion: not nillable, createable and not defaulted on create."""
        return not self.nillable and self.createable and self.default is None and self.type != "boolean"

    def describe(self) -> dict:
        is_text = self.type in TEXT_TYPES and self.type not in ("id", "reference")
        return {
            "aggregatable": True, "autoNumber": False, "byteLength": self.length * 3 if is_text else 0,
            "calculated": self.calculated, "caseSensitive": False, "createable": self.createable,
            "custom": self.custom, "defaultValue": self.default if self.type != "boolean" else bool(self.default),
            "defaultedOnCreate": self.default is not None or self.type == "boolean" or self.name in SYSTEM_FIELDS,
            "dependentPicklist": False, "digits": 0, "externalId": self.external_id,
            "extraTypeInfo": "plaintextarea" if self.type == "textarea" else None,
            "filterable": self.type != "textarea" or self.length <= 255, "groupable": self.type not in (
                "double", "currency", "percent", "textarea", "multipicklist", "datetime"),
            "htmlFormatted": False, "idLookup": self.name == "Id" or self.external_id or self.type == "email",
            "label": self.label or _label(self.name), "length": self.length if is_text else 0,
            "name": self.name, "nameField": self.name == "Name", "nillable": self.nillable,
            "picklistValues": [{"active": True, "defaultValue": v == self.default, "label": v, "validFor": None,
                                "value": v} for v in self.picklist],
            "precision": self.precision, "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name, "restrictedPicklist": self.restricted,
            "scale": self.scale, "soapType": SOAP_TYPES.get(self.type, "xsd:string"),
            "sortable": self.type not in ("textarea", "multipicklist"), "type": self.type,
            "unique": self.unique, "updateable": self.updateable,
        }


def _label(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    return base.replace("_", " ")


@dataclass
class SObject:
    name: str
    key_prefix: str
    label: str = ""
    custom: bool = False
    createable: bool = True
    tracked: tuple[str, ...] = ()          # fields with history tracking (rows go to history_object)
    history_object: str | None = None
    history_parent_field: str | None = None
    fields: dict[str, Field] = field(default_factory=dict)

    def add(self, *fields: Field) -> SObject:
        for f in fields:
            self.fields[f.name] = f
        return self

    def lookup(self, name: str) -> Field | None:
        """Field names are case-insensitive in SOQL and in request bodies."""
        found = self.fields.get(name)
        if found:
            return found
        lowered = name.lower()
        for f in self.fields.values():
            if f.name.lower() == lowered:
                return f
        return None

    def relationship(self, name: str) -> Field | None:
        lowered = name.lower()
        for f in self.fields.values():
            if f.relationship_name and f.relationship_name.lower() == lowered:
                return f
        return None

    def describe(self, version: str) -> dict:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "activateable": False, "createable": self.createable, "custom": self.custom,
            "customSetting": False, "deletable": self.createable, "deprecatedAndHidden": False,
            "feedEnabled": False, "keyPrefix": self.key_prefix, "label": self.label or _label(self.name),
            "labelPlural": (self.label or _label(self.name)) + "s", "layoutable": True, "mergeable": False,
            "mruEnabled": True, "name": self.name, "queryable": True, "replicateable": True,
            "retrieveable": True, "searchable": True, "triggerable": True, "undeletable": True,
            "updateable": self.createable,
            "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
        }

    def full_describe(self, version: str) -> dict:
        result = self.describe(version)
        result.update({"fields": [f.describe() for f in self.fields.values()], "childRelationships": [],
                       "recordTypeInfos": [], "supportedScopes": [{"label": "All", "name": "everything"}]})
        return result


def _system(obj: SObject, with_modstamps: bool = True) -> SObject:
    obj.add(Field("Id", "id", 18, label=f"{obj.label or obj.name} ID", nillable=False, createable=False,
                  updateable=False),
            Field("IsDeleted", "boolean", label="Deleted", nillable=False, createable=False, updateable=False,
                  default=False),
            Field("CreatedDate", "datetime", nillable=False, createable=False, updateable=False))
    if with_modstamps:
        obj.add(Field("LastModifiedDate", "datetime", nillable=False, createable=False, updateable=False),
                Field("SystemModstamp", "datetime", nillable=False, createable=False, updateable=False))
    return obj


def _s(name, length, **kw) -> Field:
    return Field(name, "string", length, **kw)


def _pick(name, values, **kw) -> Field:
    return Field(name, "picklist", 255, picklist=list(values), **kw)


def _bool(name, **kw) -> Field:
    return Field(name, "boolean", nillable=False, default=False, **kw)


def _person_fields() -> list[Field]:
    """Fields Contact and Lead share (standard consent and contact points plus this project's custom ones)."""
    return [
        _s("FirstName", 40), _s("LastName", 80, nillable=False),
        _s("Name", 121, label="Full Name", createable=False, updateable=False, calculated=True),
        Field("Email", "email", 80), Field("Phone", "phone", 40), Field("MobilePhone", "phone", 40),
        _s("Title", 128), _pick("LeadSource", LEAD_SOURCES),
        _bool("HasOptedOutOfEmail", label="Email Opt Out"), _bool("DoNotCall", label="Do Not Call"),
        Field("EmailBouncedDate", "datetime"), _s("EmailBouncedReason", 255),
        Field("Description", "textarea", 32000),
        _bool("SMS_Opt_Out__c", custom=True, label="SMS Opt Out"),
        Field("Interests__c", "multipicklist", 4099, picklist=INTERESTS, custom=True),
        Field("Email_Consent_Date__c", "datetime", custom=True),
    ]


def default_sobjects() -> dict[str, SObject]:
    account = _system(SObject("Account", "001", "Account")).add(
        _s("Name", 255, label="Account Name", nillable=False), _pick("Industry", INDUSTRIES),
        _pick("Type", ["Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"]),
        Field("Phone", "phone", 40), Field("Website", "url", 255), _s("BillingCity", 40),
        _s("BillingCountry", 80))
    contact = _system(SObject("Contact", "003", "Contact")).add(
        *_person_fields(),
        Field("AccountId", "reference", 18, label="Account ID", reference_to=["Account"],
              relationship_name="Account"),
        Field("Birthdate", "date"), _s("MailingCity", 40), _s("MailingCountry", 80),
        _pick("Level__c", ["Primary", "Secondary", "Tertiary"], custom=True),
        Field("Loyalty_Points__c", "double", precision=18, scale=0, custom=True))
    lead = _system(SObject("Lead", "00Q", "Lead", tracked=("Status", "Email", "HasOptedOutOfEmail", "LeadSource",
                                                             "Rating", "IsConverted"),
                           history_object="LeadHistory", history_parent_field="LeadId")).add(
        *_person_fields(),
        _s("Company", 255, nillable=False), _pick("Status", LEAD_STATUSES, nillable=False,
                                                  default="Open - Not Contacted"),
        _pick("Industry", INDUSTRIES), _pick("Rating", ["Hot", "Warm", "Cold"]),
        _bool("IsConverted", label="Converted"), Field("ConvertedDate", "date"),
        Field("ConvertedContactId", "reference", 18, reference_to=["Contact"], relationship_name="ConvertedContact"),
        Field("ConvertedAccountId", "reference", 18, reference_to=["Account"], relationship_name="ConvertedAccount"),
        _s("City", 40), _s("Country", 80))
    opportunity = _system(SObject("Opportunity", "006", "Opportunity", tracked=("StageName", "Amount", "CloseDate"),
                                  history_object="OpportunityFieldHistory",
                                  history_parent_field="OpportunityId")).add(
        _s("Name", 120, nillable=False), _pick("StageName", STAGES, nillable=False, label="Stage"),
        Field("CloseDate", "date", nillable=False), Field("Amount", "currency", precision=18, scale=2),
        Field("Probability", "percent", precision=3, scale=0),
        Field("AccountId", "reference", 18, reference_to=["Account"], relationship_name="Account"),
        Field("ContactId", "reference", 18, reference_to=["Contact"], relationship_name="Contact"),
        _pick("LeadSource", LEAD_SOURCES), _pick("Type", ["New Customer", "Existing Customer - Upgrade"]))
    task = _system(SObject("Task", "00T", "Task")).add(
        Field("Subject", "combobox", 255, picklist=["Call", "Send Letter", "Send Quote", "Other"]),
        Field("ActivityDate", "date", label="Due Date Only"),
        _pick("Status", ["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"],
              nillable=False, default="Not Started"),
        _pick("Priority", ["High", "Normal", "Low"], nillable=False, default="Normal"),
        Field("WhoId", "reference", 18, reference_to=["Contact", "Lead"], relationship_name="Who"),
        Field("WhatId", "reference", 18, reference_to=["Account", "Opportunity", "Campaign", "Membership__c"],
              relationship_name="What"),
        Field("Description", "textarea", 32000, label="Comments"),
        _pick("Type", ["Call", "Email", "Meeting", "Other"]),
        _pick("TaskSubtype", ["Task", "Email", "List Email", "Call"], updateable=False),
        Field("CompletedDateTime", "datetime", createable=False, updateable=False))
    campaign = _system(SObject("Campaign", "701", "Campaign")).add(
        _s("Name", 80, nillable=False), _pick("Type", ["Email", "Webinar", "Conference", "Advertisement", "Other"]),
        _pick("Status", ["Planned", "In Progress", "Completed", "Aborted"]), Field("StartDate", "date"),
        Field("EndDate", "date"), _bool("IsActive", label="Active"))
    campaign_member = _system(SObject("CampaignMember", "00v", "Campaign Member")).add(
        Field("CampaignId", "reference", 18, reference_to=["Campaign"], relationship_name="Campaign",
              nillable=False),
        Field("ContactId", "reference", 18, reference_to=["Contact"], relationship_name="Contact"),
        Field("LeadId", "reference", 18, reference_to=["Lead"], relationship_name="Lead"),
        _pick("Status", ["Planned", "Sent", "Received", "Responded"]),
        _bool("HasResponded", label="Responded", createable=False, updateable=False))
    lead_history = _system(SObject("LeadHistory", "017", "Lead History", createable=False), False).add(
        Field("LeadId", "reference", 18, reference_to=["Lead"], relationship_name="Lead", createable=False,
              updateable=False),
        _s("Field", 255, createable=False, updateable=False),
        Field("OldValue", "anyType", 255, createable=False, updateable=False),
        Field("NewValue", "anyType", 255, createable=False, updateable=False))
    opp_history = _system(SObject("OpportunityFieldHistory", "017", "Opportunity Field History",
                                  createable=False), False).add(
        Field("OpportunityId", "reference", 18, reference_to=["Opportunity"], relationship_name="Opportunity",
              createable=False, updateable=False),
        _s("Field", 255, createable=False, updateable=False),
        _s("DataType", 255, createable=False, updateable=False),
        Field("OldValue", "anyType", 255, createable=False, updateable=False),
        Field("NewValue", "anyType", 255, createable=False, updateable=False))
    membership = _system(SObject("Membership__c", "a01", "Membership", custom=True)).add(
        _s("Name", 80, label="Membership Name"),
        Field("Email__c", "email", 80, custom=True), Field("Mobile__c", "phone", 40, custom=True),
        _pick("Tier__c", TIERS, restricted=True, custom=True),
        Field("Interests__c", "multipicklist", 4099, picklist=INTERESTS, custom=True),
        Field("Joined__c", "date", custom=True), Field("Points__c", "double", precision=18, scale=0, custom=True),
        _bool("Email_Opt_Out__c", custom=True), _bool("SMS_Opt_Out__c", custom=True),
        _s("Member_Number__c", 20, external_id=True, unique=True, custom=True),
        Field("Contact__c", "reference", 18, reference_to=["Contact"], relationship_name="Contact__r",
              custom=True))
    objects = [account, contact, lead, opportunity, task, campaign, campaign_member, lead_history, opp_history,
               membership]
    return {o.name: o for o in objects}


def field_from_describe(entry: dict) -> Field:
    """Build a Field from a describe-shaped dict (the seed folder's schema.json format)."""
    ftype = entry["type"]
    return Field(
        name=entry["name"], type=ftype, length=int(entry.get("length") or (255 if ftype in TEXT_TYPES else 0)),
        label=entry.get("label", ""),
        picklist=[p["value"] if isinstance(p, dict) else p for p in entry.get("picklistValues", [])],
        restricted=bool(entry.get("restrictedPicklist", False)), external_id=bool(entry.get("externalId", False)),
        unique=bool(entry.get("unique", False)), nillable=bool(entry.get("nillable", True)),
        createable=bool(entry.get("createable", True)), updateable=bool(entry.get("updateable", True)),
        default=entry.get("defaultValue"), reference_to=list(entry.get("referenceTo") or []),
        relationship_name=entry.get("relationshipName"), precision=int(entry.get("precision") or 0),
        scale=int(entry.get("scale") or 0), custom=entry["name"].endswith("__c"))


def apply_schema_file(objects: dict[str, SObject], path: Path) -> None:
    """Merge ``schema.json``: ``{"sobjects": [{"name", "keyPrefix"?, "label"?, "fields": [describe entries]}]}``.

    A name that already exists gains the listed fields; a new name becomes a custom object with the
    standard system fields and a ``Name`` field.
    """
    data = json.loads(Path(path).read_text())
    used = {o.key_prefix for o in objects.values()}
    for spec in data.get("sobjects", []):
        name = spec["name"]
        obj = objects.get(name)
        if obj is None:
            prefix = spec.get("keyPrefix") or _next_custom_prefix(used)
            used.add(prefix)
            obj = _system(SObject(name, prefix, spec.get("label", _label(name)), custom=name.endswith("__c")))
            obj.add(_s("Name", 80))
            objects[name] = obj
        obj.add(*(field_from_describe(entry) for entry in spec.get("fields", [])))


def _next_custom_prefix(used: set[str]) -> str:
    for n in range(2, 36 * 36):
        prefix = "a" + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n // 36] + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n % 36]
        if prefix not in used:
            return prefix
    raise ValueError("no custom key prefix left")


def load_schema(state_dir: Path) -> dict[str, SObject]:
    """The defaults plus any schema.json copied into the state folder by a previous seed load."""
    objects = default_sobjects()
    extra = Path(state_dir) / "salesforce-schema.json"
    if extra.exists():
        apply_schema_file(objects, extra)
    return copy.deepcopy(objects)
