"""Start the Dotdigital emulator as a child process and drive its admin API (tests, demo, benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.process import EmulatorProcess


def start_dotdigital(state_dir: Path, *, seed: int = 0, import_delay: float = 0.2, faults: list | None = None,
                     rate_limits: dict | None = None, port: int | None = None,
                     extra_args: list[str] | None = None) -> EmulatorProcess:
    args = ["--seed", str(seed), "--import-delay", str(import_delay), "--faults", json.dumps(faults or []),
            "--rate-limits", json.dumps(rate_limits or {}), *(extra_args or [])]
    return EmulatorProcess("dotdigital", Path(state_dir), args, port=port).start()


def admin(base_url: str, path: str, body: dict | None = None) -> dict:
    """POST (with a body) or GET an admin endpoint under /__sandbox__/."""
    import requests

    url = f"{base_url}/__sandbox__/{path.lstrip('/')}"
    response = requests.post(url, json=body, timeout=60) if body is not None else requests.get(url, timeout=60)
    response.raise_for_status()
    return response.json()
