"""Benchmark: the sync a user would write by hand, measured the same way as the DAG (bench/contact_sync.py).

    .venv/bin/python bench/naive_sync.py                        # 10,000 Contacts end to end; read 100,000
    .venv/bin/python bench/naive_sync.py --records 20000 --read-records 200000

The naive pipeline, in one process:

1. the Salesforce provider's ``SalesforceHook.make_query`` (REST ``query_all``: every page of up to
   2,000 records collected into one in-memory result), then
2. ``SalesforceHook.write_object_to_file`` (pandas) to land the rows in a CSV file, then
3. one Dotdigital call per contact: ``PATCH /contacts/v3/email/{email}`` through ``DotdigitalHook.request``
   (identifiers, first/last name, the address book, email status), skipping contacts without an
   email and those opted out, counting API errors as failures.

Per-contact calls make it slow, so it runs end to end at ``--records`` and its figures are also given
per 1,000 records. Because it holds the whole query result in memory, steps 1-2 alone also run at
``--read-records`` to show how its memory grows with volume. Emulators are started by the benchmark
and measured apart, as in contact_sync.py. Results: bench/results/naive_sync.json (or ``--output``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from _measure import dotdigital_meter, run_measured, salesforce_meter, write_results  # noqa: E402

from sandbox.process import EmulatorProcess  # noqa: E402

SOQL = "SELECT Id, FirstName, LastName, Email, HasOptedOutOfEmail FROM Contact"
BOOK_NAME = "Salesforce Contacts (naive)"


# ---------------------------------------------------------------------------------- the naive pipeline


def worker(phases_path: Path, book_id: int, read_only: bool) -> int:
    """The hand-written sync itself; runs in the measured child process."""
    from urllib.parse import quote

    import requests
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    from sfdd.hooks.dotdigital import DotdigitalApiError, DotdigitalHook

    phases: dict = {}
    t0 = time.monotonic()
    conn = json.loads(os.environ["AIRFLOW_CONN_SALESFORCE_DEFAULT"])
    session = requests.Session()
    session.verify = conn["extra"]["ca_bundle"]
    session.request = _with_verify(session.request, conn["extra"]["ca_bundle"])
    token = session.post(f"{conn['extra']['instance_url']}/services/oauth2/token",
                         data={"grant_type": "client_credentials", "client_id": conn["login"],
                               "client_secret": conn["password"]}, timeout=60).json()["access_token"]
    hook = SalesforceHook(salesforce_conn_id="salesforce_default", session_id=token, session=session)
    result = hook.make_query(SOQL)
    records = result["records"]
    phases["make_query_seconds"] = round(time.monotonic() - t0, 3)
    phases["records_read"] = len(records)

    t1 = time.monotonic()
    csv_path = phases_path.with_suffix(".csv")
    hook.write_object_to_file(records, filename=str(csv_path), fmt="csv")
    phases["write_object_to_file_seconds"] = round(time.monotonic() - t1, 3)
    phases["csv_bytes"] = csv_path.stat().st_size
    csv_path.unlink()

    if not read_only:
        t2 = time.monotonic()
        dd = DotdigitalHook()
        sent = failed = skipped = 0
        for record in records:
            email = (record.get("Email") or "").strip()
            if not email or record.get("HasOptedOutOfEmail"):
                skipped += 1
                continue
            body = {"identifiers": {"email": email},
                    "dataFields": {"FIRSTNAME": record.get("FirstName"), "LASTNAME": record.get("LastName")},
                    "lists": [book_id],
                    "channelProperties": {"email": {"status": "subscribed", "optInType": "single"}}}
            try:
                dd.request("PATCH", f"/contacts/v3/email/{quote(email, safe='@')}", json=body)
                sent += 1
            except DotdigitalApiError:
                failed += 1
        phases.update(dotdigital_seconds=round(time.monotonic() - t2, 3), written=sent, failed=failed,
                      skipped=skipped)
    phases_path.write_text(json.dumps(phases))
    return 0


def _with_verify(request, ca: str):
    """REQUESTS_CA_BUNDLE would override ``session.verify``; pass the emulator's CA on every call."""
    def call(method, url, **kwargs):
        kwargs.setdefault("verify", ca)
        return request(method, url, **kwargs)

    return call


# ------------------------------------------------------------------------------------------- driver


def _env(work: Path, connections: dict) -> dict:
    env = dict(os.environ, AIRFLOW_HOME=str(work / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "plugins")]))
    for conn_id, conn in connections.items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    return env


def _create_book(dd: EmulatorProcess) -> int:
    """Set-up a user does once by hand, outside the timed run."""
    import requests

    conn = dd.connections["dotdigital_default"]
    response = requests.post(f"{dd.base_url}/v2/address-books", json={"name": BOOK_NAME, "visibility": "Private"},
                             auth=(conn["login"], conn["password"]), timeout=60)
    response.raise_for_status()
    return int(response.json()["id"])


def measure(work: Path, records: int, read_only: bool, seed: int) -> dict:
    label = f"{'read' if read_only else 'full'}-{records}"
    sf = EmulatorProcess("salesforce", work / f"salesforce-{label}",
                         ["--generate", str(records), "--seed", str(seed), "--leads", "0", "--memberships", "0"],
                         startup_timeout=1800).start()
    dd = EmulatorProcess("dotdigital", work / f"dotdigital-{label}", ["--seed", "0"]).start()
    try:
        book_id = _create_book(dd)
        phases_path = work / f"{label}.phases.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(phases_path), "--book-id", str(book_id)]
        if read_only:
            cmd.append("--read-only")
        sf_meter, dd_meter = salesforce_meter(sf).start(), dotdigital_meter(dd).start()
        usage, _ = run_measured(cmd, env=_env(work, {**sf.connections, **dd.connections}), cwd=REPO,
                                log_path=work / f"{label}.log")
        salesforce, dotdigital = sf_meter.stop(), dd_meter.stop()
        if usage.returncode != 0:
            raise RuntimeError(f"naive run {label} failed; see {work / f'{label}.log'}")
        phases = json.loads(phases_path.read_text())
    finally:
        dd.stop()
        sf.stop()
        shutil.rmtree(work / f"salesforce-{label}", ignore_errors=True)
    pipeline = usage.to_dict()
    per_1000 = {
        "wall_seconds": round(pipeline["wall_seconds"] * 1000 / records, 3),
        "cpu_seconds": round(pipeline["cpu_seconds"] * 1000 / records, 3),
        "salesforce_api_calls": round(salesforce["api_calls_total"] * 1000 / records, 2),
        "dotdigital_api_calls": round(dotdigital["api_calls_total"] * 1000 / records, 2),
    }
    out = {"kind": "read_only" if read_only else "full", "records": records, "pipeline": pipeline,
           "phases": phases, "records_per_second": round(records / pipeline["wall_seconds"]),
           "per_1000_records": per_1000, "salesforce": salesforce, "dotdigital": dotdigital}
    print(f"  naive {label}: wall {pipeline['wall_seconds']:.1f}s cpu {pipeline['cpu_seconds']:.1f}s "
          f"peak {pipeline['peak_rss_mb']:.0f} MB, {out['records_per_second']} records/s, "
          f"SF calls {salesforce['api_calls_total']} DD calls {dotdigital['api_calls_total']} {phases}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000, help="Contacts synced end to end")
    parser.add_argument("--read-records", type=int, default=100_000,
                        help="Contacts read by make_query + write_object_to_file only (0: skip)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "naive_sync.json")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--book-id", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--read-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.book_id, args.read_only)

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="sfdd-naive-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        runs = [measure(work, args.records, False, args.seed)]
        if args.read_records:
            runs.append(measure(work, args.read_records, True, args.seed))
        full = runs[0]
        extrapolated = {"records": 1_000_000,
                        "wall_seconds": round(full["per_1000_records"]["wall_seconds"] * 1000),
                        "dotdigital_api_calls": round(full["per_1000_records"]["dotdigital_api_calls"] * 1000),
                        "salesforce_api_calls": round(full["per_1000_records"]["salesforce_api_calls"] * 1000)}
        path = write_results(args.output, {"benchmark": "naive_sync", "soql": SOQL, "seed": args.seed,
                                           "total_seconds": round(time.monotonic() - started, 1),
                                           "extrapolated_linear_to_1m": extrapolated, "runs": runs})
        print(f"Results written to {path}", flush=True)
        return 0
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
