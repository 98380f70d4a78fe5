"""Start both emulators (Salesforce and Dotdigital) and keep them running until Ctrl-C.

    python -m sandbox --state-dir .sandbox [--generate 10000] [--seed 42]

Each emulator is its own process (``python -m sandbox.salesforce`` / ``python -m sandbox.dotdigital``,
each with its own ``--help`` for faults and limits). The merged Airflow connections are printed and
written to ``<state-dir>/connections.json`` (the LocalFilesystemBackend format).
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import time
from pathlib import Path

from sandbox.process import EmulatorProcess


def start_both(state_dir: Path, *, host: str = "127.0.0.1", salesforce_port: int | None = None,
               dotdigital_port: int | None = None, salesforce_args: list[str] | None = None,
               dotdigital_args: list[str] | None = None) -> tuple[EmulatorProcess, EmulatorProcess, dict]:
    """Start the pair and return (salesforce, dotdigital, their Airflow connections)."""
    state_dir = Path(state_dir)
    sf = EmulatorProcess("salesforce", state_dir, ["--host", host, *(salesforce_args or [])], port=salesforce_port)
    dd = EmulatorProcess("dotdigital", state_dir, ["--host", host, *(dotdigital_args or [])], port=dotdigital_port)
    sf.start()
    try:
        dd.start()
    except BaseException:
        sf.stop()
        raise
    # Each emulator has merged its connections into <state_dir>/connections.json as well.
    return sf, dd, {**sf.connections, **dd.connections}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=Path(".sandbox"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--salesforce-port", type=int, default=8443)
    parser.add_argument("--dotdigital-port", type=int, default=8090)
    parser.add_argument("--generate", type=int, default=None, help="generate N Salesforce Contacts (deterministic)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--seed-dir", type=Path, default=None, help="load Salesforce records from CSV files instead")
    parser.add_argument("--salesforce-args", default="", help="extra options for python -m sandbox.salesforce")
    parser.add_argument("--dotdigital-args", default="", help="extra options for python -m sandbox.dotdigital")
    args = parser.parse_args(argv)

    sf_args = shlex.split(args.salesforce_args)
    if args.generate is not None:
        sf_args += ["--generate", str(args.generate), "--seed", str(args.seed)]
    if args.seed_dir is not None:
        sf_args += ["--seed-dir", str(args.seed_dir)]
    dd_args = ["--seed", str(args.seed), *shlex.split(args.dotdigital_args)]

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sf, dd, connections = start_both(args.state_dir, host=args.host, salesforce_port=args.salesforce_port,
                                     dotdigital_port=args.dotdigital_port, salesforce_args=sf_args,
                                     dotdigital_args=dd_args)
    try:
        print(json.dumps(connections, indent=2))
        print(f"\nSalesforce emulator: {sf.base_url}\nDotdigital emulator: {dd.base_url}")
        print(f"Connections written to {args.state_dir / 'connections.json'}; Ctrl-C stops both.", flush=True)
        while sf.proc.poll() is None and dd.proc.poll() is None:
            time.sleep(0.5)
        print("An emulator exited; see the logs in the state folder.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        dd.stop()
        sf.stop()


if __name__ == "__main__":
    sys.exit(main())
