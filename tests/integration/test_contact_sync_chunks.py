"""A load split over several chunks: the mapped task group, per-chunk rejects and one reconcile over all."""

from __future__ import annotations

import json

import pytest
import yaml

pytestmark = pytest.mark.integration

CONTACT = "sfdd_contact_sync__contact"


@pytest.fixture(scope="module")
def small_chunks(tmp_path_factory, repo_root):
    """The shipped Contact mapping with 200-record chunks, as the only mapping the DAG folder sees."""
    folder = tmp_path_factory.mktemp("mappings")
    mapping = yaml.safe_load((repo_root / "include" / "mappings" / "contact.yaml").read_text())
    mapping["chunk_size"] = 200
    (folder / "contact.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False))
    from sfdd.sync import contact_sync as steps

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SFDD_MAPPINGS_DIR", str(folder))
        mp.setattr(steps, "MAPPINGS_DIR", folder)
        steps.mapping_for.cache_clear()
        yield
        steps.mapping_for.cache_clear()


def test_a_full_load_over_several_chunks_reconciles_as_one(small_chunks, sandbox, run_dag, sf, dd):
    from sfdd.state.ledger import Ledger

    result = run_dag(CONTACT, mode="full")
    assert result.state == "success"
    figures = result.figures
    total = sf.get_conn().query("SELECT COUNT() FROM Contact")["totalSize"]
    assert figures["chunks"] == -(-total // 200) > 1
    assert figures["read"] == total and figures["balanced"]
    book = next(b for b in dd.list_address_books() if b["name"] == "Salesforce Contacts")
    members = list(dd.iter_paged(f"/v2/address-books/{book['id']}/contacts"))
    assert len(members) == figures["created"] + figures["updated"]
    rejects = Ledger().rejects_for_run(CONTACT, result.run_id)
    assert len({r["map_index"] for r in rejects}) > 1  # each chunk recorded its own
    assert len({(r["map_index"], r["payload_row"]) for r in rejects}) == figures["rejected"]


def test_a_chunk_goes_as_several_imports_never_more_than_two_in_flight(small_chunks, sandbox, run_dag, monkeypatch):
    """Parts of a chunk overlap (one is processed while the next is sent), but only as many as the slots
    the load task holds in the pool, and every part is waited for and counted."""
    from sfdd.hooks.dotdigital import DotdigitalHook
    from sfdd.sync import contact_sync as steps

    monkeypatch.setattr(steps, "IMPORT_PART_SIZE", 60)
    events: list[tuple[str, str]] = []
    floors: list[float | None] = []
    submit, wait = DotdigitalHook.submit_contact_import_v3, DotdigitalHook.wait_for_contact_import_v3

    def spy_submit(self, body):
        assert len(json.loads(body)["contacts"]) <= 60
        import_id = submit(self, body)
        events.append(("start", import_id))
        return import_id

    def spy_wait(self, import_id, **kwargs):
        status = wait(self, import_id, **kwargs)
        events.append(("done", import_id))
        floors.append(kwargs.get("floor"))
        return status

    monkeypatch.setattr(DotdigitalHook, "submit_contact_import_v3", spy_submit)
    monkeypatch.setattr(DotdigitalHook, "wait_for_contact_import_v3", spy_wait)
    before = sandbox.dd_admin("GET", "stats")["calls"].get("PUT /contacts/v3/import", 0)

    result = run_dag(CONTACT, mode="full")
    assert result.state == "success" and result.figures["balanced"]
    figures = result.figures
    started = [i for kind, i in events if kind == "start"]
    assert sorted(started) == sorted(i for kind, i in events if kind == "done")  # each part waited for once
    assert len(started) == sandbox.dd_admin("GET", "stats")["calls"]["PUT /contacts/v3/import"] - before
    assert len(started) >= 3 * figures["chunks"]  # 200-record chunks in parts of 60
    active, most = set(), 0
    for kind, import_id in events:
        (active.add if kind == "start" else active.discard)(import_id)
        most = max(most, len(active))
    assert most == steps.IMPORTS_IN_FLIGHT
    # only each chunk's last import, with nothing queued behind it, is polled on the short floor
    assert floors.count(steps.TAIL_POLL_FLOOR_SECONDS) == figures["chunks"]
    assert floors.count(None) == len(floors) - figures["chunks"]
    # every valid contact of every part was counted: this second full load updates what the first created
    assert figures["created"] + figures["updated"] + figures["rejected"] + figures["skipped"] == figures["read"]


def test_a_part_whose_body_is_too_large_is_sent_in_halves(small_chunks, sandbox, run_dag, monkeypatch):
    """Dotdigital refuses bodies over 50 MB; a part over the limit is split until each body fits."""
    from sfdd.hooks.dotdigital import DotdigitalHook
    from sfdd.sync import contact_sync as steps

    monkeypatch.setattr(steps, "IMPORT_PART_SIZE", 60)
    monkeypatch.setattr(steps, "MAX_IMPORT_BODY_BYTES", 12_000)  # about 20 contacts of this mapping
    sizes: list[int] = []
    submit = DotdigitalHook.submit_contact_import_v3

    def spy_submit(self, body):
        sizes.append(len(body))
        return submit(self, body)

    monkeypatch.setattr(DotdigitalHook, "submit_contact_import_v3", spy_submit)
    result = run_dag(CONTACT, mode="full")
    assert result.state == "success" and result.figures["balanced"]
    assert max(sizes) <= 12_000
    assert len(sizes) >= 3 * -(-result.figures["valid"] // 60)  # every 60-contact part went as 3 or more
    figures = result.figures
    assert figures["created"] + figures["updated"] + figures["rejected"] + figures["skipped"] == figures["read"]
