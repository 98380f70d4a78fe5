"""``python -m sandbox.salesforce``: start the Salesforce API emulator (HTTPS) on one port.

On start it seeds the store (``--generate`` or ``--seed-dir``; otherwise it keeps the state folder's
data), prints the Airflow connections as JSON, writes them to ``<state>/salesforce.connections.json``
and, once listening, ``<state>/salesforce.ready.json`` (see sandbox/process.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path

from sandbox.process import write_ready

NAME = "salesforce"
log = logging.getLogger("sandbox.salesforce")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.salesforce",
        description="Local HTTPS emulator of the Salesforce REST, Bulk API 2.0 and OAuth endpoints used by "
                    "simple-salesforce and the Airflow Salesforce provider. See sandbox/salesforce/README.md.")
    parser.add_argument("--port", type=int, default=8443, help="TCP port to listen on (default 8443)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--state-dir", type=Path, default=Path(".sandbox/salesforce"),
                        help="folder for the SQLite store, TLS files, Bulk job files and connection files")
    seed = parser.add_mutually_exclusive_group()
    seed.add_argument("--generate", type=int, metavar="N",
                      help="replace the data with N generated Contacts (plus Leads, Memberships, ... see --leads)")
    seed.add_argument("--seed-dir", type=Path, metavar="DIR",
                      help="replace the data with DIR/<Object>.csv files (+ optional DIR/schema.json)")
    parser.add_argument("--seed", type=int, default=42, help="random seed for --generate and faults (default 42)")
    parser.add_argument("--leads", type=int, default=None, help="Leads to generate (default N/4)")
    parser.add_argument("--memberships", type=int, default=None, help="Membership__c records (default N/10)")
    parser.add_argument("--faults", default=None, metavar="JSON",
                        help='fault rules: a JSON list, {"seed": n, "rules": [...]}, or @file.json '
                             "(kinds: server_error, request_limit, expire_token, slow, unable_to_lock_row, "
                             "bulk_job_fail, bulk_job_stuck)")
    parser.add_argument("--token-ttl", type=float, default=7200.0, metavar="SECONDS",
                        help="access token lifetime on the emulated clock (default 7200)")
    parser.add_argument("--daily-quota", type=int, default=100_000, metavar="N",
                        help="org API request allocation reported in Sforce-Limit-Info (default 100000)")
    parser.add_argument("--api-version", default="62.0", help="API version written into the connection")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")
    return parser.parse_args(argv)


def connections(base_url: str, paths: dict, version: str) -> dict:
    from sandbox.salesforce.auth import CLIENT_ID, CLIENT_SECRET

    common = {"instance_url": base_url, "version": version, "ca_bundle": str(paths["ca"])}
    return {
        "salesforce_default": {
            "conn_type": "salesforce", "login": CLIENT_ID, "password": CLIENT_SECRET,
            "description": "Local Salesforce emulator (sandbox/salesforce), OAuth client credentials",
            "extra": {**common, "auth_flow": "client_credentials"}},
        "salesforce_jwt": {
            "conn_type": "salesforce", "login": CLIENT_ID,
            "description": "Local Salesforce emulator (sandbox/salesforce), OAuth JWT bearer",
            "extra": {**common, "auth_flow": "jwt_bearer", "username": "integration@sandbox.example.com",
                      "private_key_file_path": str(paths["jwt_key"])}},
    }


def build(args: argparse.Namespace):
    from sandbox.salesforce.app import create_app
    from sandbox.salesforce.auth import Tokens, ensure_tls_material
    from sandbox.salesforce.clock import Clock
    from sandbox.salesforce.faults import Faults
    from sandbox.salesforce.generator import generate
    from sandbox.salesforce.org import Org
    from sandbox.salesforce.schema import load_schema
    from sandbox.salesforce.seed_loader import load_seed_dir, prepare_schema

    state_dir = args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    paths = ensure_tls_material(state_dir)
    base_url = f"https://{args.host}:{args.port}"
    spec = args.faults
    if spec and spec.startswith("@"):
        spec = Path(spec[1:]).read_text()
    rules, fault_seed = Faults.parse(spec)
    faults = Faults(rules, fault_seed or args.seed)
    clock = Clock()
    if args.seed_dir:
        (state_dir / "salesforce-schema.json").unlink(missing_ok=True)
    objects = load_schema(state_dir)
    if args.seed_dir:
        prepare_schema(args.seed_dir, state_dir, objects)
    tokens = Tokens(clock, args.token_ttl, paths["jwt_public"].read_bytes(), base_url)
    org = Org(state_dir, objects, clock, faults, tokens, args.daily_quota)
    started = time.monotonic()
    if args.generate is not None:
        summary = generate(org.store, args.seed, args.generate, args.leads, args.memberships)
        log.warning("generated %s in %.1fs", summary, time.monotonic() - started)
    elif args.seed_dir:
        summary = load_seed_dir(org.store, org.writer, args.seed_dir)
        log.warning("loaded %s in %.1fs", summary, time.monotonic() - started)
    else:
        summary = {}
    info = {"name": NAME, "base_url": base_url, "instance_url": base_url, "admin_url": f"{base_url}/__sandbox__",
            "ca_bundle": str(paths["ca"]), "api_version": args.api_version, "seed_seconds":
                round(time.monotonic() - started, 3), "seeded": summary,
            "connections": connections(base_url, paths, args.api_version)}
    return create_app(org), paths, info


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app, paths, info = build(args)
    (args.state_dir.resolve() / f"{NAME}.connections.json").write_text(json.dumps(info["connections"], indent=2))
    print(json.dumps(info["connections"], indent=2), flush=True)
    config = uvicorn.Config(app, host=args.host, port=args.port, ssl_certfile=str(paths["cert"]),
                            ssl_keyfile=str(paths["key"]), log_level=args.log_level, access_log=False,
                            timeout_graceful_shutdown=1)  # idle TLS keep-alives never answer close_notify
    server = uvicorn.Server(config)

    async def serve() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                await task
                return
            await asyncio.sleep(0.02)
        import os

        write_ready(args.state_dir.resolve(), NAME, {**info, "pid": os.getpid()})
        await task

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
