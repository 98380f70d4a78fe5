"""Helpers for tests, benchmarks and the demo that drive the emulator from outside (no pytest fixtures).

Each helper goes through the network like any client would: the emulator runs as a child process
(sandbox/process.py) and is reached over HTTPS with its CA bundle.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.process import EmulatorProcess


def start_emulator(state_dir: Path, *args: str, startup_timeout: float = 300.0) -> EmulatorProcess:
    """``python -m sandbox.salesforce --state-dir state_dir [args]`` on a free port, started and ready."""
    return EmulatorProcess("salesforce", Path(state_dir), list(args), startup_timeout=startup_timeout).start()


def trusted_session(emulator: EmulatorProcess):
    """A requests session that trusts the emulator's CA even when REQUESTS_CA_BUNDLE points elsewhere."""
    import requests

    ca = emulator.info["ca_bundle"]

    class _Session(requests.Session):
        def request(self, method, url, **kwargs):
            kwargs.setdefault("verify", ca)
            return super().request(method, url, **kwargs)

    return _Session()


def admin(emulator: EmulatorProcess, method: str, path: str, json=None):
    """Call ``/__sandbox__/<path>`` and return the parsed JSON body."""
    response = trusted_session(emulator).request(method, f"{emulator.base_url}/__sandbox__/{path.lstrip('/')}",
                                                 json=json, timeout=60)
    response.raise_for_status()
    return response.json()


def access_token(emulator: EmulatorProcess, session=None) -> str:
    from sandbox.salesforce.auth import CLIENT_ID, CLIENT_SECRET

    session = session or trusted_session(emulator)
    response = session.post(f"{emulator.base_url}/services/oauth2/token",
                            data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                  "client_secret": CLIENT_SECRET}, timeout=60)
    response.raise_for_status()
    return response.json()["access_token"]


def simple_salesforce_client(emulator: EmulatorProcess, version: str = "62.0"):
    """A plain ``simple_salesforce.Salesforce`` (direct session id), as any script would build one."""
    from simple_salesforce import Salesforce

    session = trusted_session(emulator)
    return Salesforce(instance_url=emulator.base_url, session_id=access_token(emulator, session), session=session,
                      version=version)
