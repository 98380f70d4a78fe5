"""The project-local Airflow environment shared by the demo and `make airflow`.

Everything is configured through environment variables (no hand-edited airflow.cfg), and it must be
set before Airflow is first imported, because Airflow reads its configuration at import time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def configure(airflow_home: Path, connections: dict | None = None, staging: Path | None = None) -> None:
    env = {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "SFDD_STAGING_URL": f"file://{staging or (REPO / '.staging')}",
    }
    for key, value in env.items():
        os.environ.setdefault(key, value)
    os.environ["AIRFLOW_HOME"] = str(airflow_home)
    for path in (str(REPO), str(REPO / "plugins")):
        if path not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
            os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [path, os.environ.get("PYTHONPATH")]))
    for conn_id, conn in (connections or {}).items():
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    airflow_home.mkdir(parents=True, exist_ok=True)
