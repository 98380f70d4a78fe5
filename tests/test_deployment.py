"""The deployment files a team would use: pins, compose services, CI entry point."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


def _has_docker_compose() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt", "constraints.txt"])
def test_requirements_are_pinned_exactly(name):
    lines = [ln.split("#")[0].strip() for ln in (REPO / name).read_text().splitlines()]
    reqs = [ln for ln in lines if ln and not ln.startswith("-")]
    assert reqs
    loose = [r for r in reqs if not re.fullmatch(r"[A-Za-z0-9_.\[\],-]+==[A-Za-z0-9_.+-]+", r)]
    assert loose == []


def test_runtime_pins_agree_with_the_lock():
    lock = dict(ln.lower().split("==") for ln in (REPO / "constraints.txt").read_text().splitlines()
                if "==" in ln and not ln.startswith("#"))
    for ln in (REPO / "requirements.txt").read_text().splitlines():
        ln = ln.split("#")[0].strip()
        if "==" in ln:
            name, version = ln.lower().split("==")
            assert lock.get(name.replace("_", "-"), lock.get(name)) == version, name


def test_compose_has_the_airflow_stack_and_a_sandbox_profile():
    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
    services = compose["services"]
    for name in ("postgres", "redis", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                 "airflow-triggerer", "airflow-worker", "airflow-init"):
        assert name in services, name
    assert services["sandbox"]["profiles"] == ["sandbox"]
    mounts = set(services["airflow-worker"]["volumes"])
    assert {"./dags:/opt/airflow/dags", "./plugins:/opt/airflow/plugins", "./include:/opt/airflow/include"} <= mounts
    assert services["airflow-worker"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert "FROM apache/airflow:3.3.2" in (REPO / "Dockerfile").read_text()


@pytest.mark.skipif(not _has_docker_compose(), reason="no `docker compose` CLI on this machine")
def test_docker_compose_config_is_valid():
    out = subprocess.run(["docker", "compose", "-f", str(REPO / "docker-compose.yaml"), "config", "--quiet"],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci
    assert "make test" in (REPO / "README.md").read_text()
    assert "make demo" in (REPO / "README.md").read_text()
