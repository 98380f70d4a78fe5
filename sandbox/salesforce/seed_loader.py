"""Load a seed folder: ``schema.json`` (optional) plus one ``<Object>.csv`` per sObject.

Headers are field API names. ``Id``, ``CreatedDate``, ``LastModifiedDate``, ``SystemModstamp`` and
``IsDeleted`` may be given (so fixtures can pin them); otherwise they are generated. Values use the
Bulk API 2.0 CSV conventions (``true``/``false``, ``YYYY-MM-DD``, ISO dateTimes) and are type- and
length-checked like API writes; a bad value stops start-up with the file, row and field named.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from sandbox.salesforce.clock import normalise_datetime
from sandbox.salesforce.errors import RecordError
from sandbox.salesforce.ids import is_id, to18
from sandbox.salesforce.schema import apply_schema_file
from sandbox.salesforce.store import Store
from sandbox.salesforce.writes import UNSET, Writer

LOAD_ORDER = ["Account", "Contact", "Lead", "Campaign", "CampaignMember", "Opportunity", "Task"]


class SeedError(ValueError):
    pass


def prepare_schema(seed_dir: Path, state_dir: Path, objects: dict) -> None:
    """Copy schema.json into the state folder (so a restart without --seed-dir keeps it) and apply it."""
    schema = Path(seed_dir) / "schema.json"
    if schema.exists():
        shutil.copyfile(schema, Path(state_dir) / "salesforce-schema.json")
        apply_schema_file(objects, schema)


def load_seed_dir(store: Store, writer: Writer, seed_dir: Path) -> dict[str, int]:
    store.drop_all()
    files = {p.stem: p for p in Path(seed_dir).glob("*.csv")}
    unknown = [name for name in files if name not in store.objects]
    if unknown:
        raise SeedError(f"{seed_dir}: no sObject named {unknown} (add it to schema.json)")
    order = [n for n in LOAD_ORDER if n in files] + sorted(n for n in files if n not in LOAD_ORDER)
    counts = {}
    now = store.now_text()
    for name in order:
        obj = store.objects[name]
        with open(files[name], newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = []
            for line, raw in enumerate(reader, start=2):
                values = {}
                for key, text in raw.items():
                    f = obj.lookup(key or "")
                    if f is None:
                        raise SeedError(f"{files[name]}:{line}: no field {key!r} on {name}")
                    try:
                        values[f.name] = _value(writer, obj, f, text)
                    except (RecordError, ValueError) as exc:
                        raise SeedError(f"{files[name]}:{line}: {f.name}: {exc}") from None
                values = {k: v for k, v in values.items() if v is not UNSET}
                values.setdefault("IsDeleted", 0)
                values.setdefault("CreatedDate", now)
                if "LastModifiedDate" in obj.fields:
                    values.setdefault("LastModifiedDate", values["CreatedDate"])
                    values.setdefault("SystemModstamp", values["LastModifiedDate"])
                if name in ("Contact", "Lead"):
                    values["Name"] = " ".join(p for p in (values.get("FirstName"), values.get("LastName")) if p)
                rows.append(values)
        missing_ids = [r for r in rows if not r.get("Id")]
        for row, new_id in zip(missing_ids, store.new_ids(obj, len(missing_ids)), strict=True):
            row["Id"] = new_id
        columns = sorted({k for r in rows for k in r})
        store.load_rows(obj, columns, [tuple(r.get(c) for c in columns) for r in rows])
        counts[name] = len(rows)
    return counts


def _value(writer: Writer, obj, f, text: str):
    if f.name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        return normalise_datetime(text) if text else UNSET
    if f.name == "IsDeleted":
        return 1 if text.lower() == "true" else 0
    if f.type in ("id", "reference"):
        if not text:
            return UNSET
        if not is_id(text):
            raise ValueError(f"not a Salesforce id: {text!r}")
        return to18(text)
    return writer.coerce(obj, f, text, csv=True)
