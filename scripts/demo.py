"""`make demo`: the DAGs end to end against the sandbox, with a readable summary.

1. starts both emulators with generated Salesforce data (dirty records included),
2. runs every contact sync DAG as a full load,
3. edits, opts out and deletes some Salesforce records through the real API,
4. runs the delta syncs and prints both summaries, read back from the ledger.

Everything it starts is stopped again, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "plugins")]

from scripts.local_env import REPO, configure  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=2000, help="generated Salesforce Contacts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--state-dir", type=Path, default=REPO / ".sandbox" / "demo")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    shutil.rmtree(args.state_dir, ignore_errors=True)
    home = REPO / ".airflow" / "demo"
    shutil.rmtree(home, ignore_errors=True)

    from sandbox.__main__ import start_both

    started = time.monotonic()
    print(f"Starting the Salesforce and Dotdigital emulators ({args.contacts} Contacts, seed {args.seed}) ...")
    sf, dd, connections = start_both(args.state_dir, salesforce_args=["--generate", str(args.contacts),
                                                                      "--seed", str(args.seed)])
    try:
        configure(home, connections, staging=home / "staging")
        os.environ.setdefault("SFDD_RETRY_DELAY_SECONDS", "2")
        from demo_runner import run_demo

        return run_demo(sf, dd, started)
    finally:
        dd.stop()
        sf.stop()
        print("Emulators stopped.")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
