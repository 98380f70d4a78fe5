"""The contact sync when things go wrong: throttling, server errors, a rejected import, a bad mapping."""

from __future__ import annotations

import time

import pytest

from .conftest import watermark

pytestmark = pytest.mark.integration

CONTACT = "sfdd_contact_sync__contact"


@pytest.fixture(scope="module")
def loaded(run_dag):
    result = run_dag(CONTACT, mode="full")
    assert result.state == "success"
    return result


def _touch(sf, n: int = 3) -> list[dict]:
    rows = list(sf.query_all_iter(f"SELECT Id, Email FROM Contact WHERE Email LIKE '%@example.%' "
                                  f"AND HasOptedOutOfEmail = false ORDER BY Id DESC LIMIT {n}"))
    for row in rows:
        sf.get_conn().Contact.update(row["Id"], {"Title": f"Touched {time.time_ns()}"})
    time.sleep(1.1)
    return rows


def test_throttling_and_server_errors_on_both_sides_are_retried_and_logged(loaded, sandbox, sf, run_dag, caplog):
    _touch(sf)
    sandbox.sf_admin("POST", "faults", {"replace": True, "rules": [
        {"kind": "server_error", "status": 503, "path": "/jobs/query", "count": 2}]})
    sandbox.dd_admin("POST", "faults", {"replace": True, "rules": [
        {"kind": "http", "path": "/contacts/v3/import", "method": "PUT", "status": 429, "reset_seconds": 1,
         "count": 2},
        {"kind": "http", "path": "/contacts/v3/import/", "method": "GET", "status": 503, "count": 1}]})
    with caplog.at_level("WARNING"):
        result = run_dag(CONTACT)
    assert result.state == "success"
    assert result.figures["balanced"] and result.figures["updated"] >= 3
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert sum("Salesforce" in w and "503" in w for w in warnings) == 2
    assert any("429" in w for w in warnings) and any("503" in w and "import" in w for w in warnings)
    assert not any("@example." in w for w in warnings)  # no contact data in retry logs


def test_an_import_rejected_by_the_watchdog_fails_the_run_and_keeps_the_watermark(loaded, sandbox, sf, run_dag,
                                                                                caplog):
    _touch(sf)
    before = watermark("contact")
    sandbox.dd_admin("POST", "faults", {"replace": True, "rules": [
        {"kind": "import_status", "status": "RejectedByWatchdog", "generation": "v3", "count": 1}]})
    with caplog.at_level("ERROR"):
        result = run_dag(CONTACT)
    assert result.state == "failed"
    assert watermark("contact") == before
    assert result.figures is None  # reconcile never ran
    assert any("RejectedByWatchdog" in r.getMessage() or "RejectedByWatchdog" in str(r.exc_info)
               for r in caplog.records)
    # The next run picks the same changes up again.
    again = run_dag(CONTACT)
    assert again.state == "success" and again.figures["updated"] >= 3
    assert watermark("contact") > before


def _mapping_with(**changes):
    from sfdd.mapping.model import FieldMapping
    from sfdd.sync.contact_sync import mapping_for

    base = mapping_for("contact")
    fields = list(base.fields) + [FieldMapping(**f) for f in changes.pop("extra_fields", [])]
    return base.model_copy(update={"fields": fields, **changes})


def _datafield_names(dd) -> set[str]:
    return {f["name"].upper() for f in dd.list_data_fields()}


def test_unknown_salesforce_field_fails_preflight_before_anything_is_written(sandbox, sf, dd):
    from airflow.sdk.exceptions import AirflowFailException

    from sfdd.sync.contact_sync import run_preflight

    mapping = _mapping_with(extra_fields=[{"source": "Shoe_Size__c", "target": "SHOE_SIZE", "type": "numeric"}],
                            target=_mapping_with().target.model_copy(update={"address_books": ["Never Created"]}))
    with pytest.raises(AirflowFailException, match="Shoe_Size__c"):
        run_preflight(mapping, sf, dd, dry_run=False)
    assert "SHOE_SIZE" not in _datafield_names(dd)
    assert "Never Created" not in {b["name"] for b in dd.list_address_books()}


def test_data_field_type_clash_fails_preflight_naming_the_field(sandbox, sf, dd):
    from airflow.sdk.exceptions import AirflowFailException

    from sfdd.sync.contact_sync import run_preflight

    dd.create_data_field("CLASHY", "Numeric")
    mapping = _mapping_with(extra_fields=[{"source": "Title", "target": "CLASHY", "type": "string"},
                                          {"source": "FirstName", "target": "BRAND_NEW_FIELD"}])
    with pytest.raises(AirflowFailException, match="CLASHY"):
        run_preflight(mapping, sf, dd, dry_run=False)
    assert "BRAND_NEW_FIELD" not in _datafield_names(dd)


def test_dry_run_writes_files_and_report_but_sends_nothing(loaded, sandbox, sf, dd, run_dag):
    rows = _touch(sf, 2)
    before = {r["Email"]: dd.get_contact("email", r["Email"])["dataFields"]["JOB_TITLE"] for r in rows}
    mark = watermark("contact")
    result = run_dag(CONTACT, dry_run=True)
    assert result.state == "success"
    assert result.figures["dry_run"] and result.figures["would_import"] >= 2 and result.figures["balanced"]
    assert {r["Email"]: dd.get_contact("email", r["Email"])["dataFields"]["JOB_TITLE"] for r in rows} == before
    assert watermark("contact") == mark
