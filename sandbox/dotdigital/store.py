"""The emulator's state: one SQLite file in the state folder, sized for a million contacts.

One connection guarded by one lock: SQLite allows a single writer anyway, and a lock held per short
transaction keeps the import worker and the request threads from stepping on each other.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT UNIQUE COLLATE NOCASE,
    mobile TEXT UNIQUE,
    email_status TEXT NOT NULL DEFAULT 'subscribed',
    sms_status TEXT NOT NULL DEFAULT 'noSubscription',
    sms_opted_out INTEGER NOT NULL DEFAULT 0,
    email_type TEXT NOT NULL DEFAULT 'Html',
    opt_in_type TEXT NOT NULL DEFAULT 'Unknown',
    data TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS data_fields (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    type TEXT NOT NULL,
    visibility TEXT NOT NULL,
    default_value TEXT
);
CREATE TABLE IF NOT EXISTS address_books (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    visibility TEXT NOT NULL DEFAULT 'Private'
);
CREATE TABLE IF NOT EXISTS book_members (
    book_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'subscribed',
    PRIMARY KEY (book_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS book_members_contact ON book_members(contact_id);
CREATE TABLE IF NOT EXISTS suppressions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL,
    book_id INTEGER,
    reason TEXT NOT NULL,
    date_removed TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS suppressions_date ON suppressions(date_removed);
CREATE TABLE IF NOT EXISTS imports (
    id TEXT PRIMARY KEY,
    generation TEXT NOT NULL,
    status TEXT NOT NULL,
    submitted REAL NOT NULL,
    ready_at REAL NOT NULL,
    book_id INTEGER,
    merge_option TEXT,
    payload BLOB,
    forced_status TEXT,
    failure_rule TEXT,
    result TEXT,
    report TEXT,
    faults_csv TEXT
);
CREATE TABLE IF NOT EXISTS deletions (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    subject TEXT NOT NULL,
    from_name TEXT NOT NULL,
    from_email TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'Unsent',
    urls TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS campaign_contacts (
    campaign_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    date_sent TEXT NOT NULL,
    bounce TEXT,
    bounce_at TEXT,
    unsubscribed_at TEXT,
    PRIMARY KEY (campaign_id, contact_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS campaign_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    url TEXT,
    ip TEXT,
    user_agent TEXT,
    mail_client TEXT
);
CREATE INDEX IF NOT EXISTS campaign_events_at ON campaign_events(campaign_id, kind, at);
CREATE TABLE IF NOT EXISTS pending_consent (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL,
    email_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS programs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    date_created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS program_members (
    program_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    PRIMARY KEY (program_id, contact_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS enrolments (
    id TEXT PRIMARY KEY,
    program_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    date_created TEXT NOT NULL,
    ready_at REAL NOT NULL,
    contacts TEXT,
    address_books TEXT,
    faults_csv TEXT
);
CREATE TABLE IF NOT EXISTS enrolment_calls (at TEXT NOT NULL);
"""

DEFAULT_DATA_FIELDS = [
    ("FIRSTNAME", "String"), ("LASTNAME", "String"), ("FULLNAME", "String"),
    ("GENDER", "String"), ("POSTCODE", "String"), ("LASTSUBSCRIBED", "Date"),
]
DEFAULT_PROGRAMS = [("Welcome journey", "Active"), ("Win-back (draft)", "Draft"), ("Old nurture", "Deactivated")]


def iso(dt: datetime) -> str:
    """Dotdigital writes UTC timestamps with a trailing Z."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_when(text: str) -> datetime:
    """Path dates arrive as ``2024-01-01``, ISO 8601 with offset or with Z; all mean UTC when naive."""
    value = text.strip().replace(" ", "T")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    if len(value) >= 5 and value[-5] in "+-" and value[-3] != ":" and "T" in value:
        value = value[:-2] + ":" + value[-2:]
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


class Clock:
    """The emulator's notion of now: real time plus an offset that the admin API moves."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC) + self._offset

    def set(self, when: datetime, frozen: bool = False) -> None:
        if frozen:
            self._frozen = when
        else:
            self._frozen = None
            self._offset = when - datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        if self._frozen is not None:
            self._frozen += timedelta(seconds=seconds)
        else:
            self._offset += timedelta(seconds=seconds)


class Store:
    def __init__(self, state_dir: Path):
        self.path = Path(state_dir) / "dotdigital.sqlite3"
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-65536")
        self.db.executescript(SCHEMA)
        self.clock = Clock()
        self._seed_defaults()

    def _seed_defaults(self) -> None:
        with self.lock:
            if self.db.execute("SELECT COUNT(*) FROM data_fields").fetchone()[0] == 0:
                self.db.executemany("INSERT INTO data_fields VALUES (?, ?, 'Private', NULL)", DEFAULT_DATA_FIELDS)
            if self.db.execute("SELECT COUNT(*) FROM programs").fetchone()[0] == 0:
                created = iso(self.clock.now())
                self.db.executemany("INSERT INTO programs (name, status, date_created) VALUES (?, ?, ?)",
                                    [(n, s, created) for n, s in DEFAULT_PROGRAMS])
            self.db.execute("INSERT OR IGNORE INTO sqlite_sequence (name, seq) "
                            "SELECT 'contacts', 100000 WHERE NOT EXISTS "
                            "(SELECT 1 FROM sqlite_sequence WHERE name = 'contacts')")
            self.db.execute("INSERT OR IGNORE INTO sqlite_sequence (name, seq) "
                            "SELECT 'address_books', 5000 WHERE NOT EXISTS "
                            "(SELECT 1 FROM sqlite_sequence WHERE name = 'address_books')")

    def query(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple | list = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.db.execute(sql, params).fetchone()

    def execute(self, sql: str, params: tuple | list = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.db.execute(sql, params)

    def transaction(self):
        return _Transaction(self)

    def now_iso(self) -> str:
        return iso(self.clock.now())

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()


class _Transaction:
    def __init__(self, store: Store):
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store.lock.acquire()
        self.store.db.execute("BEGIN")
        return self.store.db

    def __exit__(self, exc_type, *_exc) -> None:
        try:
            self.store.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.store.lock.release()
