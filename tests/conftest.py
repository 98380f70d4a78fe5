"""Test-wide Airflow environment.

Airflow reads its configuration when ``airflow`` is first imported, so the environment is set here,
at conftest import time, before any test module imports Airflow. Every test session gets its own
AIRFLOW_HOME, so nothing leaks between runs or into a developer's ``.airflow``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_HOME = Path(tempfile.mkdtemp(prefix="sfdd-airflow-home-"))

os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.setdefault("SFDD_STAGING_URL", f"file://{_HOME / 'staging'}")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def airflow_db():
    """An initialised metadata DB (SQLite in the session's AIRFLOW_HOME); only DAG runs need it."""
    from airflow.utils.db import initdb

    initdb()
    return _HOME / "airflow.db"
