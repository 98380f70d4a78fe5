"""`make airflow`: `airflow standalone` for this project, bound to 127.0.0.1, with the sandbox connected.

The emulators keep their state in .sandbox/standalone between starts, so synced data survives a
restart. Connections come from a LocalFilesystemBackend file, so they show up for every component.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from local_env import REPO, configure  # noqa: E402

from sandbox.__main__ import start_both  # noqa: E402


def _stop_group(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def main() -> int:
    # A plain SIGTERM (from `timeout`, a process manager, ...) must also stop the emulators and Airflow.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    state = REPO / ".sandbox" / "standalone"
    first = not (state / "salesforce").exists() and not any(state.glob("*.db"))
    sf_args = ["--generate", "5000", "--seed", "42"] if first else []
    sf, dd, connections = start_both(state, salesforce_args=sf_args)
    home = REPO / ".airflow"
    configure(home, staging=home / "staging")
    conn_file = state / "connections.json"
    os.environ["AIRFLOW__SECRETS__BACKEND"] = "airflow.secrets.local_filesystem.LocalFilesystemBackend"
    os.environ["AIRFLOW__SECRETS__BACKEND_KWARGS"] = json.dumps({"connections_file_path": str(conn_file)})
    os.environ.setdefault("AIRFLOW__API__PORT", "8080")
    os.environ.setdefault("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "http://127.0.0.1:8080/execution/")
    airflow = str(Path(sys.executable).parent / "airflow")
    standalone = None
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    try:
        subprocess.run([airflow, "db", "migrate"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([airflow, "pools", "set", "dotdigital_imports", "8",
                        "Concurrent Dotdigital contact imports (API allows 25 active)"], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"Sandbox: Salesforce {sf.base_url}, Dotdigital {dd.base_url} (connections: {conn_file})")
        print("Airflow UI: http://127.0.0.1:8080  user: admin")
        print(f"Generated admin password: {home / 'simple_auth_manager_passwords.json.generated'}")
        # Its own process group, so stopping it also stops the scheduler, dag-processor, api-server and workers.
        standalone = subprocess.Popen([airflow, "standalone"], start_new_session=True)
        return standalone.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if standalone is not None:
            _stop_group(standalone)
        dd.stop()
        sf.stop()


if __name__ == "__main__":
    sys.exit(main())
