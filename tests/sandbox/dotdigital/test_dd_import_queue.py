"""The import queue's own bookkeeping: payloads kept beside the database until processed, restarts."""

import json
import time

from sandbox.dotdigital.faults import Faults
from sandbox.dotdigital.imports import ImportQueue
from sandbox.dotdigital.store import Store


def _body(book_id: int, *emails: str) -> bytes:
    return json.dumps({"contacts": [{"matchIdentifier": "email", "identifiers": {"email": e}, "lists": [book_id]}
                                    for e in emails]}).encode()


def test_a_pending_import_is_processed_after_a_restart_and_its_payload_removed(tmp_path):
    store = Store(tmp_path)
    book = store.execute("INSERT INTO address_books (name) VALUES ('Restart')").lastrowid
    first = ImportQueue(store, Faults(), delay=0.0)  # never started: the emulator stops with the import pending
    import_id = first.submit("v3", _body(book, "a@example.com", "b@example.com"), merge_option="overwrite")
    payload_file = first.payload_dir / f"{import_id}.body"
    assert payload_file.exists()
    assert store.one("SELECT payload FROM imports WHERE id = ?", (import_id,))[0] is None

    restarted = ImportQueue(store, Faults(), delay=0.0)
    restarted.start()
    try:
        for _ in range(100):
            status, row = restarted.visible(import_id, "v3")
            if status != "NotFinished":
                break
            time.sleep(0.05)
    finally:
        restarted.stop()
    assert status == "Finished"
    assert json.loads(row["result"])["summary"]["newContacts"] == 2
    assert store.one("SELECT COUNT(*) FROM book_members WHERE book_id = ?", (book,))[0] == 2
    assert not payload_file.exists()


def test_the_parsed_body_from_the_route_is_used_once_and_released(tmp_path):
    store = Store(tmp_path)
    book = store.execute("INSERT INTO address_books (name) VALUES ('Parsed')").lastrowid
    queue = ImportQueue(store, Faults(), delay=0.0)
    raw = _body(book, "c@example.com")
    import_id = queue.submit("v3", raw, merge_option="overwrite", parsed=json.loads(raw))
    assert import_id in queue.parsed
    queue.start()
    try:
        for _ in range(100):
            if queue.visible(import_id, "v3")[0] != "NotFinished":
                break
            time.sleep(0.05)
    finally:
        queue.stop()
    assert queue.parsed == {}
    assert store.one("SELECT COUNT(*) FROM contacts WHERE email = 'c@example.com'")[0] == 1
