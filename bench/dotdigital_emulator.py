"""Benchmark: import N contacts (default 1,000,000) in chunks through v3 import via DotdigitalHook.

Reports wall time, contacts/s, API calls (from the emulator's own counters) and the emulator's peak RSS.
Results: bench/results/dotdigital_emulator.json (or --out).

    python bench/dotdigital_emulator.py --records 1000000 [--chunk 20000] [--in-flight 4]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "plugins")]


def contacts(start: int, stop: int, book_id: int) -> list[dict]:
    return [{"matchIdentifier": "email", "identifiers": {"email": f"bench{i}@example.com"},
             "dataFields": {"FIRSTNAME": f"First{i}", "LASTNAME": f"Last{i % 997}", "POSTCODE": f"N{i % 90 + 1} 1AA"},
             "channelProperties": {"email": {"status": "subscribed", "optInType": "single", "emailType": "html"}},
             "lists": [book_id]} for i in range(start, stop)]


def run(records: int, chunk: int, in_flight: int, out: Path) -> dict:
    from sandbox.dotdigital.launcher import admin, start_dotdigital
    from sfdd.hooks.dotdigital import DotdigitalHook

    with tempfile.TemporaryDirectory(prefix="dd-bench-") as state:
        emulator = start_dotdigital(Path(state), import_delay=0.0)
        try:
            os.environ["AIRFLOW_CONN_DOTDIGITAL_DEFAULT"] = json.dumps(emulator.connections["dotdigital_default"])
            hook = DotdigitalHook()
            book = hook.get_or_create_address_book("Benchmark")
            started = time.perf_counter()
            pending: deque[str] = deque()
            created = updated = failed = 0
            for start in range(0, records, chunk):
                if len(pending) >= in_flight:
                    result = hook.wait_for_contact_import_v3(pending.popleft(), poll_interval=0.2)
                    created += len(result["created"])
                    updated += len(result["updated"])
                    failed += len(result["failures"])
                pending.append(hook.start_contact_import_v3(contacts(start, min(records, start + chunk), book["id"])))
            while pending:
                result = hook.wait_for_contact_import_v3(pending.popleft(), poll_interval=0.2)
                created += len(result["created"])
                updated += len(result["updated"])
                failed += len(result["failures"])
            wall = time.perf_counter() - started
            in_book = hook.request("GET", f"/v2/address-books/{book['id']}").json()["contacts"]
            stats = admin(emulator.base_url, "stats")
        finally:
            emulator.stop()
    figures = {
        "records": records, "chunk_size": chunk, "imports_in_flight": in_flight,
        "imports": (records + chunk - 1) // chunk, "wall_seconds": round(wall, 2),
        "contacts_per_second": round(records / wall, 1) if wall else None,
        "created": created, "updated": updated, "failed": failed, "contacts_in_book": in_book,
        "emulator_pid": stats["pid"], "emulator_peak_rss_mb": round(stats["peak_rss_bytes"] / 2**20, 1),
        "api_calls_total": stats["total_calls"], "api_calls": stats["calls"],
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(figures, indent=2) + "\n")
    tmp.replace(out)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=20_000)
    parser.add_argument("--in-flight", type=int, default=4, help="imports submitted before waiting (max 25)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "dotdigital_emulator.json")
    args = parser.parse_args()
    figures = run(args.records, args.chunk, args.in_flight, args.out)
    print(json.dumps({k: v for k, v in figures.items() if k != "api_calls"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
