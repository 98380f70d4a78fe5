"""Whole DAG runs (dag.test()) against both emulators, end state read back through the real APIs.

Each test module gets its own pair of emulators, ledger and watermarks, so modules do not see each
other's contacts. Runs happen in this process, so their log records reach pytest's caplog.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Sandbox:
    salesforce: object
    dotdigital: object
    connections: dict

    def sf_admin(self, method: str, path: str, body=None):
        from sandbox.salesforce.harness import admin

        return admin(self.salesforce, method, path, body)

    def dd_admin(self, method: str, path: str, body=None) -> dict:
        response = requests.request(method, f"{self.dotdigital.base_url}/__sandbox__/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else {}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, airflow_db):
    from sandbox.__main__ import start_both

    state = tmp_path_factory.mktemp("sandbox")
    sf, dd, connections = start_both(state, salesforce_args=["--generate", "600", "--seed", "3"],
                                     dotdigital_args=["--import-delay", "0.2"])
    env = {f"AIRFLOW_CONN_{cid.upper()}": json.dumps(conn) for cid, conn in connections.items()}
    env["AIRFLOW_CONN_SFDD_LEDGER"] = json.dumps({"conn_type": "sqlite", "host": str(state / "ledger.db")})
    env["SFDD_RETRY_DELAY_SECONDS"] = "1"
    env["SFDD_STAGING_URL"] = f"file://{state / 'staging'}"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        _clear_watermarks()
        yield Sandbox(sf, dd, connections)
    dd.stop()
    sf.stop()


def _clear_watermarks():
    from airflow.models.variable import Variable as VariableModel
    from airflow.utils.session import create_session

    from sfdd.state.watermark import PREFIX

    with create_session() as session:
        session.query(VariableModel).filter(VariableModel.key.like(f"{PREFIX}%")).delete(synchronize_session=False)


@pytest.fixture(scope="module")
def dags(sandbox):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert not bag.import_errors
    return bag.dags


@dataclass
class RunResult:
    state: str
    run_id: str
    figures: dict | None


@pytest.fixture(scope="module")
def run_dag(dags):
    from sfdd.state.ledger import Ledger

    def run(dag_id: str, logical_date=None, **conf) -> RunResult:
        dr = dags[dag_id].test(logical_date=logical_date, run_conf={"mode": "delta", "dry_run": False, "since": None, **conf})
        state = str(getattr(dr.state, "value", dr.state))
        return RunResult(state, dr.run_id, Ledger().run_figures(dag_id, dr.run_id))

    return run


@pytest.fixture(scope="module")
def run_ok(run_dag):
    """run_dag that also insists the run succeeded."""

    def run(dag_id: str, logical_date=None, **conf) -> RunResult:
        result = run_dag(dag_id, logical_date=logical_date, **conf)
        assert result.state == "success", result
        return result

    return run


@pytest.fixture(scope="module")
def sf(sandbox):
    from sfdd.hooks.salesforce import SalesforceApiHook

    return SalesforceApiHook()


@pytest.fixture(scope="module")
def dd(sandbox):
    from sfdd.hooks.dotdigital import DotdigitalHook

    return DotdigitalHook()


def watermark(sync: str):
    from airflow.models.variable import Variable as VariableModel

    from sfdd.state.watermark import parse, variable_key

    return parse(VariableModel.get(variable_key(sync), default_var=None))
