import pytest

from sfdd.state.ledger import Ledger


@pytest.fixture
def ledger(tmp_path):
    return Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")


def _reject(sf_id, code="INVALID_EMAIL", retryable=False):
    return {"sf_id": sf_id, "field": "Email", "error_code": code, "message": "Email: not an address",
            "payload_ref": "file:///s/chunk-00000.parquet", "payload_row": 3, "retryable": retryable}


def test_a_retried_task_replaces_its_rejects_instead_of_duplicating(ledger):
    key = dict(sync_name="contact", dag_id="d", run_id="r", task_id="transform", map_index=0)
    ledger.replace_rejects(**key, rows=[_reject("003A"), _reject("003B")])
    ledger.replace_rejects(**key, rows=[_reject("003A")])
    rows = ledger.rejects_for_run("d", "r")
    assert [r["sf_id"] for r in rows] == ["003A"]
    assert rows[0]["payload_row"] == 3 and rows[0]["retry_state"] == "permanent"


def test_other_map_indexes_are_untouched(ledger):
    ledger.replace_rejects(sync_name="c", dag_id="d", run_id="r", task_id="t", map_index=0, rows=[_reject("1")])
    ledger.replace_rejects(sync_name="c", dag_id="d", run_id="r", task_id="t", map_index=1, rows=[_reject("2")])
    ledger.replace_rejects(sync_name="c", dag_id="d", run_id="r", task_id="t", map_index=1, rows=[])
    assert [r["sf_id"] for r in ledger.rejects_for_run("d", "r")] == ["1"]


def test_retryable_rejects_are_pending_and_resolve_when_written_later(ledger):
    ledger.replace_rejects(sync_name="c", dag_id="d", run_id="r", task_id="load", map_index=0,
                           rows=[_reject("003A", "DOTDIGITAL_TIMEOUT", retryable=True)])
    assert ledger.rejects_for_run("d", "r")[0]["retry_state"] == "pending"
    assert ledger.resolve_written("c", ["003A"]) == 1
    assert ledger.rejects_for_run("d", "r")[0]["retry_state"] == "resolved"


def test_run_figures_are_upserted(ledger):
    ledger.record_run(sync_name="c", dag_id="d", run_id="r", ok=False, figures={"read": 1})
    ledger.record_run(sync_name="c", dag_id="d", run_id="r", ok=True, figures={"read": 2})
    assert ledger.run_figures("d", "r") == {"read": 2}


def test_default_url_is_a_sqlite_file_in_airflow_home(monkeypatch, tmp_path):
    from sfdd.state.ledger import ledger_url

    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("AIRFLOW_CONN_SFDD_LEDGER", raising=False)
    assert ledger_url() == f"sqlite:///{tmp_path / 'sfdd_ledger.db'}"


def test_sqlite_connection_is_honoured(monkeypatch, tmp_path):
    from sfdd.state.ledger import ledger_url

    monkeypatch.setenv("AIRFLOW_CONN_SFDD_LEDGER", f'{{"conn_type": "sqlite", "host": "{tmp_path}/l.db"}}')
    assert ledger_url() == f"sqlite:///{tmp_path}/l.db"
