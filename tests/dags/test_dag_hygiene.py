"""Conventions every DAG file in dags/ must keep: it parses, it is documented and retried, and it
is cheap to import (the dag-processor imports these files over and over)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p for p in (REPO / "dags").glob("*.py") if not p.name.startswith("_"))
HEAVY = ("pandas", "pandera", "pyarrow", "simple_salesforce", "numpy")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_there_are_dag_files():
    assert DAG_FILES, "dags/ holds no DAG files"


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_every_file_defines_a_dag(dagbag):
    files_with_dags = {Path(d.fileloc).name for d in dagbag.dags.values()}
    assert {p.name for p in DAG_FILES} <= files_with_dags


def test_dags_are_documented_owned_and_tagged(dagbag):
    assert dagbag.dags
    for dag_id, dag in dagbag.dags.items():
        assert dag.doc_md and len(dag.doc_md) > 40, f"{dag_id}: doc_md missing"
        assert dag.tags, f"{dag_id}: no tags"
        for t in dag.tasks:
            assert t.owner and t.owner != "airflow", f"{dag_id}.{t.task_id}: default owner"


def test_tasks_retry_with_exponential_backoff(dagbag):
    for dag_id, dag in dagbag.dags.items():
        for t in dag.tasks:
            assert t.retries >= 1, f"{dag_id}.{t.task_id}: retries={t.retries}"
            backoff = t.retry_exponential_backoff
            assert backoff and float(backoff) > 1, f"{dag_id}.{t.task_id}: no exponential backoff"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_catchup_set_explicitly(path):
    tree = ast.parse(path.read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and getattr(n.func, "id", getattr(n.func, "attr", None)) in ("DAG", "dag")]
    assert calls, f"{path.name}: no DAG(...) call"
    for call in calls:
        assert any(k.arg == "catchup" for k in call.keywords), f"{path.name}: catchup not set explicitly"


_PROBE = """
import json, runpy, sys
sys.path[:0] = [{plugins!r}, {root!r}]
forbidden = []
def refuse(kind):
    def _refuse(*a, **k):
        forbidden.append(kind)
        raise RuntimeError(kind + " read at parse time")
    return _refuse
from airflow.sdk import Variable, BaseHook, Connection
Variable.get = staticmethod(refuse("Variable.get"))
BaseHook.get_connection = classmethod(lambda cls, *a, **k: refuse("BaseHook.get_connection")())
Connection.get = classmethod(lambda cls, *a, **k: refuse("Connection.get")())
runpy.run_path({path!r})
print(json.dumps({{"heavy": [m for m in {heavy!r} if m in sys.modules], "forbidden": forbidden}}))
"""


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_import_is_light_and_reads_no_secrets(path):
    code = _PROBE.format(plugins=str(REPO / "plugins"), root=str(REPO), path=str(path), heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], f"{path.name} imports heavy modules at parse time: {result['heavy']}"
    assert result["forbidden"] == [], f"{path.name} reads {result['forbidden']} at parse time"
