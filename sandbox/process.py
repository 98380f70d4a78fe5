"""Run one emulator as a child process and wait until it is ready.

Tests, the demo and the benchmarks all start emulators the same way, as a separate process, so that
the emulator's CPU and memory never mix with the pipeline's figures and a crash in one cannot hide
in the other. The child writes ``<state_dir>/<name>.ready.json`` once it accepts connections; that
file carries the Airflow connections to use.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on right now (small race, fine for local use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ready_file(state_dir: Path, name: str) -> Path:
    return Path(state_dir) / f"{name}.ready.json"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_ready(state_dir: Path, name: str, info: dict) -> None:
    """Called by an emulator once it listens: publish its address and connections.

    Its connections are also merged into ``<state_dir>/connections.json`` (the LocalFilesystemBackend
    format), so one file serves whether one emulator runs or both share the folder.
    """
    merged_path = Path(state_dir) / "connections.json"
    try:
        merged = json.loads(merged_path.read_text())
    except (OSError, ValueError):
        merged = {}
    merged.update(info.get("connections") or {})
    _write_atomically(merged_path, json.dumps(merged, indent=2))
    _write_atomically(ready_file(state_dir, name), json.dumps(info, indent=2))


class EmulatorProcess:
    """``python -m sandbox.<name> --port P --state-dir D [args...]`` as a managed child process.

    ``info`` is the parsed ready file: at least ``base_url`` and ``connections`` (a dict of Airflow
    connection id -> connection JSON, the LocalFilesystemBackend/AIRFLOW_CONN_* format).
    """

    def __init__(self, name: str, state_dir: Path, args: list[str] | None = None, port: int | None = None,
                 startup_timeout: float = 120.0, log_path: Path | None = None):
        self.name = name
        self.state_dir = Path(state_dir)
        self.args = list(args or [])
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self.log_path = log_path or self.state_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.info: dict = {}

    def start(self) -> EmulatorProcess:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ready = ready_file(self.state_dir, self.name)
        ready.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", f"sandbox.{self.name}", "--port", str(self.port),
               "--state-dir", str(self.state_dir), *self.args]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if ready.exists():
                self.info = json.loads(ready.read_text())
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} emulator exited with {self.proc.returncode}; "
                                   f"see {self.log_path}:\n{self.tail_log()}")
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"{self.name} emulator not ready after {self.startup_timeout}s; see {self.log_path}")

    def tail_log(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if getattr(self, "_log", None):
            self._log.close()
        ready_file(self.state_dir, self.name).unlink(missing_ok=True)

    @property
    def base_url(self) -> str:
        return self.info["base_url"]

    @property
    def connections(self) -> dict:
        return self.info["connections"]

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
