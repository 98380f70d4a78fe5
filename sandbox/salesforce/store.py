"""SQLite storage: one table per sObject, one column per field, in the emulator's state folder.

SQLite keeps a million Contacts on disk rather than in the server's memory, streams query results
through cursors, and loads generated data with ``executemany`` fast enough for benchmarks. Writes go
through one connection behind a lock; reads use one connection per thread (WAL lets them run while a
write is in progress).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from sandbox.salesforce.clock import Clock, format_datetime
from sandbox.salesforce.ids import make_id, make_ids
from sandbox.salesforce.schema import SObject

DB_NAME = "salesforce.sqlite3"


def q(name: str) -> str:
    """Quote an identifier (field and object names come from the schema, never from raw input)."""
    return '"' + name.replace('"', '""') + '"'


class Store:
    def __init__(self, state_dir: Path, objects: dict[str, SObject], clock: Clock):
        self.path = Path(state_dir) / DB_NAME
        self.objects = objects
        self.clock = clock
        self.write_lock = threading.RLock()
        self._local = threading.local()
        self.writer = self._connect()
        self.create_tables()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=60)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
        return conn

    def reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
        return conn

    def read_conn(self) -> sqlite3.Connection:
        """Inside a write transaction, reads must see its uncommitted rows (e.g. two records with the
        same unique value in one allOrNone request), so they use the writer connection."""
        return self.writer if getattr(self._local, "writing", 0) else self.reader()

    def new_reader(self) -> sqlite3.Connection:
        """A private connection for long scans (Bulk query materialisation) on a worker thread."""
        conn = self._connect()
        conn.execute("PRAGMA query_only=ON")
        return conn

    # -- schema -------------------------------------------------------------------------------------
    def create_tables(self) -> None:
        with self.write_lock:
            self.writer.execute("CREATE TABLE IF NOT EXISTS _sequences (prefix TEXT PRIMARY KEY, next INTEGER)")
            for obj in self.objects.values():
                existing = {row[1] for row in self.writer.execute(f"PRAGMA table_info({q(obj.name)})")}
                if not existing:
                    cols = ", ".join(f"{q(f.name)} {f.sql_type}" for f in obj.fields.values())
                    self.writer.execute(f"CREATE TABLE {q(obj.name)} ({cols})")
                    self.create_indexes(obj)
                else:
                    for f in obj.fields.values():
                        if f.name not in existing:
                            self.writer.execute(f"ALTER TABLE {q(obj.name)} ADD COLUMN {q(f.name)} {f.sql_type}")

    def create_indexes(self, obj: SObject) -> None:
        t = obj.name
        stmts = [f"CREATE UNIQUE INDEX IF NOT EXISTS {q('ix_' + t + '_Id')} ON {q(t)} (Id)",
                 f"CREATE INDEX IF NOT EXISTS {q('ix_' + t + '_mod')} ON {q(t)} (SystemModstamp)"
                 if "SystemModstamp" in obj.fields else
                 f"CREATE INDEX IF NOT EXISTS {q('ix_' + t + '_created')} ON {q(t)} (CreatedDate)"]
        for f in obj.fields.values():
            if f.external_id or f.unique or f.name in ("LeadId", "OpportunityId"):
                stmts.append(f"CREATE INDEX IF NOT EXISTS {q('ix_' + t + '_' + f.name)} ON {q(t)} ({q(f.name)})")
        for stmt in stmts:
            self.writer.execute(stmt)

    def drop_all(self) -> None:
        with self.write_lock:
            for obj in self.objects.values():
                self.writer.execute(f"DROP TABLE IF EXISTS {q(obj.name)}")
            self.writer.execute("DROP TABLE IF EXISTS _sequences")
        self.create_tables()

    # -- ids ----------------------------------------------------------------------------------------
    def allocate(self, prefix: str, count: int) -> int:
        with self.write_lock:
            row = self.writer.execute("SELECT next FROM _sequences WHERE prefix=?", (prefix,)).fetchone()
            start = row[0] if row else 1
            self.writer.execute("INSERT OR REPLACE INTO _sequences VALUES (?, ?)", (prefix, start + count))
            return start

    def new_id(self, obj: SObject) -> str:
        return make_id(obj.key_prefix, self.allocate(obj.key_prefix, 1))

    def new_ids(self, obj: SObject, count: int) -> list[str]:
        return make_ids(obj.key_prefix, self.allocate(obj.key_prefix, count), count)

    def now_text(self) -> str:
        return format_datetime(self.clock.now())

    # -- bulk load (seeding) ------------------------------------------------------------------------
    def load_rows(self, obj: SObject, columns: list[str], rows: Iterable[tuple]) -> None:
        """Append many rows in one transaction; indexes are rebuilt afterwards, which is faster."""
        cols = ", ".join(q(c) for c in columns)
        marks = ", ".join("?" for _ in columns)
        with self.write_lock:
            self.writer.execute("BEGIN")
            self.writer.executemany(f"INSERT INTO {q(obj.name)} ({cols}) VALUES ({marks})", rows)
            self.writer.execute("COMMIT")

    def drop_indexes(self, obj: SObject) -> None:
        with self.write_lock:
            names = [r[0] for r in self.writer.execute(
                "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL", (obj.name,))]
            for name in names:
                self.writer.execute(f"DROP INDEX {q(name)}")

    # -- reads --------------------------------------------------------------------------------------
    def get(self, obj: SObject, record_id: str, include_deleted: bool = False) -> dict | None:
        cur = self.read_conn().execute(f"SELECT * FROM {q(obj.name)} WHERE Id = ?", (record_id,))
        row = cur.fetchone()
        if row is None:
            return None
        record = dict(zip([d[0] for d in cur.description], row, strict=True))
        if record.get("IsDeleted") and not include_deleted:
            return None
        return record

    def find_ids(self, obj: SObject, field: str, value, limit: int = 3) -> list[str]:
        rows = self.read_conn().execute(
            f"SELECT Id FROM {q(obj.name)} WHERE {q(field)} = ? AND IsDeleted = 0 LIMIT ?", (value, limit))
        return [r[0] for r in rows]

    def exists(self, obj_name: str, record_id: str) -> bool:
        row = self.read_conn().execute(
            f"SELECT 1 FROM {q(obj_name)} WHERE Id = ? AND IsDeleted = 0", (record_id,)).fetchone()
        return row is not None

    def count(self, obj_name: str) -> int:
        return self.reader().execute(f"SELECT COUNT(*) FROM {q(obj_name)} WHERE IsDeleted = 0").fetchone()[0]

    # -- writes (callers hold write_lock and manage the transaction) --------------------------------
    def insert(self, obj: SObject, values: dict, now: str) -> str:
        record_id = self.new_id(obj)
        row = dict(values)
        row.update({"Id": record_id, "IsDeleted": 0, "CreatedDate": now})
        if "LastModifiedDate" in obj.fields:
            row.update({"LastModifiedDate": now, "SystemModstamp": now})
        self._fill_derived(obj, row, row)
        cols = list(row)
        self.writer.execute(f"INSERT INTO {q(obj.name)} ({', '.join(q(c) for c in cols)}) "
                            f"VALUES ({', '.join('?' for _ in cols)})", [row[c] for c in cols])
        if obj.history_object:
            self._history(obj, record_id, "created", None, None, now)
        return record_id

    def update(self, obj: SObject, current: dict, values: dict, now: str) -> None:
        row = dict(values)
        row.update({"LastModifiedDate": now, "SystemModstamp": now})
        merged = {**current, **row}
        self._fill_derived(obj, merged, row)
        sets = ", ".join(f"{q(c)} = ?" for c in row)
        self.writer.execute(f"UPDATE {q(obj.name)} SET {sets} WHERE Id = ?", [*row.values(), current["Id"]])
        for name in obj.tracked:
            if name in values and values[name] != current.get(name):
                self._history(obj, current["Id"], name, current.get(name), values[name], now)

    def soft_delete(self, obj: SObject, record_id: str, now: str) -> None:
        self.writer.execute(f"UPDATE {q(obj.name)} SET IsDeleted = 1, SystemModstamp = ?, LastModifiedDate = ? "
                            f"WHERE Id = ?", (now, now, record_id))

    def _fill_derived(self, obj: SObject, merged: dict, target: dict) -> None:
        if obj.name in ("Contact", "Lead"):
            target["Name"] = " ".join(p for p in (merged.get("FirstName"), merged.get("LastName")) if p)
        if obj.name == "CampaignMember" and "Status" in target:
            target["HasResponded"] = 1 if target["Status"] == "Responded" else 0

    def _history(self, obj: SObject, parent_id: str, field: str, old, new, now: str) -> None:
        history = self.objects[obj.history_object]
        cols = ["Id", "IsDeleted", "CreatedDate", obj.history_parent_field, "Field", "OldValue", "NewValue"]
        is_bool = field in obj.fields and obj.fields[field].type == "boolean"
        values = [self.new_id(history), 0, now, parent_id, field, _text(old, is_bool), _text(new, is_bool)]
        if "DataType" in history.fields:
            cols.append("DataType")
            values.append(obj.fields[field].type.capitalize() if field in obj.fields else None)
        self.writer.execute(f"INSERT INTO {q(history.name)} ({', '.join(q(c) for c in cols)}) "
                            f"VALUES ({', '.join('?' for _ in cols)})", values)


def _text(value, is_bool: bool = False):
    if value is None:
        return None
    if is_bool:
        return "true" if value else "false"
    return str(value)
