"""A load split over several chunks: the mapped task group, per-chunk rejects and one reconcile over all."""

from __future__ import annotations

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
