"""``python -m sandbox.dotdigital --port P --state-dir D``: run the Dotdigital emulator until SIGTERM."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

CONN_ID = "dotdigital_default"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox.dotdigital",
                                     description="Local emulator of Dotdigital's REST API (v2 + v3 contacts).")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument("--state-dir", type=Path, required=True,
                        help="folder for the SQLite state, ready file and connections file")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--faults", default="[]",
                        help='JSON list of fault rules, e.g. \'[{"kind":"http","path":"^/v2/account-info",'
                             '"status":503,"count":2}]\' (kinds: http, import_status, slow_import, '
                             'contact_failures; see README.md)')
    parser.add_argument("--import-delay", type=float, default=0.5,
                        help="seconds an import (and an enrolment) stays NotFinished/Processing at least")
    parser.add_argument("--seed", type=int, default=0, help="seed for per-contact faults and campaign engagement")
    parser.add_argument("--rate-limits", default="{}",
                        help='JSON, e.g. \'{"window_seconds":60,"reset_format":"seconds",'
                             '"tiers":{"Low":35,"Medium":150,"High":600}}\'; tiers left out are unlimited')
    parser.add_argument("--api-user", default="apiuser-sandbox@apiconnector.com", help="API user (Basic auth)")
    parser.add_argument("--api-password", default=None,
                        help="API user password; default: generated once and kept in the state folder")
    parser.add_argument("--enrolment-allowance", type=int, default=20, help="program enrolment calls per hour")
    return parser.parse_args(argv)


def api_password(state_dir: Path, given: str | None) -> str:
    path = state_dir / "dotdigital.credentials.json"
    if given:
        return given
    if path.exists():
        return json.loads(path.read_text())["password"]
    secret = secrets.token_urlsafe(18)
    path.write_text(json.dumps({"password": secret}))
    return secret


def connection(host: str, port: int, user: str, secret: str) -> dict:
    return {"conn_type": "http", "host": host, "login": user, "password": secret, "schema": "http", "port": port,
            "extra": {}}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import uvicorn

    from sandbox.dotdigital.app import build_app
    from sandbox.process import write_ready

    state_dir = args.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    secret = api_password(state_dir, args.api_password)
    base_url = f"http://{args.host}:{args.port}"
    connections = {CONN_ID: connection(args.host, args.port, args.api_user, secret)}
    app = build_app(state_dir, base_url, args.api_user, secret, seed=args.seed, faults=json.loads(args.faults),
                    rate_limits=json.loads(args.rate_limits), import_delay=args.import_delay)
    app.state.emu.enrolment_allowance = args.enrolment_allowance

    class ReadyServer(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets)
            if self.should_exit:
                return
            (state_dir / "dotdigital.connections.json").write_text(json.dumps(connections, indent=2))
            print(json.dumps(connections), flush=True)
            write_ready(state_dir, "dotdigital", {"base_url": base_url, "connections": connections,
                                                  "api_user": args.api_user, "admin_url": base_url + "/__sandbox__"})

        async def shutdown(self, sockets=None):
            await super().shutdown(sockets)
            # A SIGTERM that led to this graceful shutdown is a normal stop: exit 0 instead of re-raising it.
            captured = getattr(self, "_captured_signals", None)
            if isinstance(captured, list):
                captured.clear()

    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    ReadyServer(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
