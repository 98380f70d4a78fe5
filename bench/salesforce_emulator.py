"""Benchmark: generate + load N Contacts in the Salesforce emulator, then download them all with a
Bulk API 2.0 query through simple-salesforce (the real client), streaming pages to files.

    python bench/salesforce_emulator.py --records 1000000

Reports wall times and the emulator's peak RSS (from ``GET /__sandbox__/stats``, i.e. the server
process alone) and writes them to bench/results/salesforce_emulator.json (or ``--output``).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sandbox.salesforce.harness import admin, simple_salesforce_client, start_emulator  # noqa: E402

SOQL = ("SELECT Id, FirstName, LastName, Email, MobilePhone, HasOptedOutOfEmail, SMS_Opt_Out__c, Interests__c, "
        "Account.Name, SystemModstamp FROM Contact")


def run(records: int, page_size: int, work_dir: Path) -> dict:
    started = time.monotonic()
    emulator = start_emulator(work_dir / "state", "--generate", str(records), "--seed", "1",
                              "--leads", "0", "--memberships", "0", startup_timeout=1800)
    ready_seconds = time.monotonic() - started
    try:
        sf = simple_salesforce_client(emulator)
        after_load = admin(emulator, "GET", "stats")
        download_dir = work_dir / "download"
        download_dir.mkdir()
        t0 = time.monotonic()
        pages = sf.bulk2.Contact.download(SOQL, path=str(download_dir), max_records=page_size, wait=0.5)
        download_seconds = time.monotonic() - t0
        rows = 0
        size = 0
        for page in pages:
            path = Path(page["file"])
            size += path.stat().st_size
            with open(path, newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                header = next(reader)
                rows += sum(1 for _ in reader)
        jobs = sf.session.get(sf.bulk2_url + "query", headers=sf.headers).json()["records"]
        job_ms = jobs[-1]["totalProcessingTime"]
        stats = admin(emulator, "GET", "stats")
    finally:
        emulator.stop()
    return {
        "benchmark": "salesforce_emulator",
        "records": records,
        "page_size": page_size,
        "generate_and_load_seconds": emulator.info.get("seed_seconds"),
        "emulator_ready_seconds": round(ready_seconds, 3),
        "bulk_query_download_seconds": round(download_seconds, 3),
        "bulk_query_job_processing_seconds": round(job_ms / 1000, 3),
        "rows_downloaded": rows,
        "pages": len(pages),
        "rows_per_page": [p["number_of_records"] for p in pages],
        "csv_header": header,
        "bytes_downloaded": size,
        "download_rows_per_second": round(rows / download_seconds) if download_seconds else None,
        "emulator_peak_rss_mb_after_load": round(after_load["peak_rss_bytes"] / 2**20, 1),
        "emulator_peak_rss_mb": round(stats["peak_rss_bytes"] / 2**20, 1),
        "emulator_rss_mb_after_download": round(stats["rss_bytes"] / 2**20, 1) if stats["rss_bytes"] else None,
        "client_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "api_calls": stats["api_calls"],
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000, help="Contacts to generate (default 1,000,000)")
    parser.add_argument("--page-size", type=int, default=50_000,
                        help="maxRecords per Bulk result page (simple-salesforce's default 50,000)")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "salesforce_emulator.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sf-bench-") as tmp:
        result = run(args.records, args.page_size, Path(tmp))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("api_calls", "rows_per_page")}, indent=2))
    return 0 if result["rows_downloaded"] == args.records else 1


if __name__ == "__main__":
    sys.exit(main())
