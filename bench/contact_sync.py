"""Benchmark: the contact sync DAG end to end (dag.test()) against the emulators, full and delta.

    .venv/bin/python bench/contact_sync.py                      # 100,000 ×3 and 1,000,000 ×1, delta 1,000
    .venv/bin/python bench/contact_sync.py --records 1000000 --runs 1 --delta 1000
    .venv/bin/python bench/contact_sync.py --records 1000 --runs 1 --delta 100 --output /tmp/x.json   # smoke

For each size it starts a Salesforce emulator with N generated Contacts and, for every run, a fresh
Dotdigital emulator (so every full load creates N contacts), then runs ``scripts/run_dag.py`` (the DAG
with ``dag.test()``) as a measured child process: wall, CPU and peak RSS of the pipeline alone. The
emulators' API calls per endpoint, CPU and RSS are read from ``/__sandbox__/stats`` and reported apart.
Only the Contact mapping runs (``SFDD_MAPPINGS_DIR`` points at a copy of include/mappings/contact.yaml).

The delta run follows the last full load of the largest size: it changes ``--delta`` Contacts through
the Salesforce REST API (sObject Collections, 200 per call) and runs the DAG with ``since`` = the
emulator clock just before the edits, so the window holds exactly the changed records and nothing
from the mapping's 10-minute lookback. Results: bench/results/contact_sync.json (or ``--output``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from _measure import dotdigital_meter, median, run_measured, salesforce_meter, write_results  # noqa: E402

from sandbox.process import EmulatorProcess  # noqa: E402

DAG_ID = "sfdd_contact_sync__contact"
MAPPING = REPO / "include" / "mappings" / "contact.yaml"
SMALL_RUN_LIMIT = 200_000  # sizes up to this get several runs by default (median quoted)


# --------------------------------------------------------------------------------------- environment


class Bench:
    """One benchmark session: a work folder, a migrated Airflow home and the child-process environment."""

    def __init__(self, work: Path, import_delay: float, profile: bool):
        self.work = work
        self.import_delay = import_delay
        self.profile = profile
        self.home = work / "airflow"
        self.mappings = work / "mappings"
        self.mappings.mkdir(parents=True, exist_ok=True)
        shutil.copy(MAPPING, self.mappings / "contact.yaml")
        self.base_env = {
            **os.environ,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "SFDD_MAPPINGS_DIR": str(self.mappings),
            "SFDD_RETRY_DELAY_SECONDS": "2",
            "PYTHONPATH": os.pathsep.join([str(REPO / "scripts"), str(REPO), str(REPO / "plugins")]),
        }
        self.home.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=self.base_env, cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.migrate_seconds = round(time.monotonic() - started, 1)

    def env(self, connections: dict, staging: Path) -> dict:
        env = dict(self.base_env, SFDD_STAGING_URL=f"file://{staging}")
        for conn_id, conn in connections.items():
            env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
        return env

    def run_dag(self, conf: dict, connections: dict, label: str, repeat: int = 1) -> tuple[dict, dict | None]:
        """The DAG in a measured child process; returns (usage + run state, the run's ledger figures).

        With ``repeat`` > 1 the same conf runs that many times in the one process; task times and figures
        are then the last run's, and ``dag_test_seconds`` lists every run's time inside dag.test().
        """
        staging = self.work / "staging"
        shutil.rmtree(staging, ignore_errors=True)
        log = self.work / "logs" / f"{label}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable]
        if self.profile:
            cmd += ["-m", "cProfile", "-o", str(self.work / "logs" / f"{label}.prof")]
        cmd += [str(REPO / "scripts" / "run_dag.py"), DAG_ID, json.dumps(conf), "--repeat", str(repeat)]
        usage, stdout = run_measured(cmd, env=self.env(connections, staging), cwd=REPO, log_path=log)
        runs = [json.loads(ln) for ln in stdout.splitlines() if ln.startswith('{"dag_id"')]
        run = runs[-1] if len(runs) == repeat else {"run_id": None, "state": "failed"}
        state = "success" if runs and all(r["state"] == "success" for r in runs) else run["state"]
        result = {"state": state, "run_id": run["run_id"], "log": str(log), **usage.to_dict(),
                  "dag_test_seconds": [r.get("seconds") for r in runs],
                  "task_seconds": self.task_seconds(run["run_id"])}
        result["outside_tasks_seconds"] = round(result["wall_seconds"] - sum(result["task_seconds"].values()), 3)
        shutil.rmtree(staging, ignore_errors=True)
        return result, self.figures(run["run_id"])

    def task_seconds(self, run_id: str | None) -> dict:
        """Seconds per task (mapped instances added up), from Airflow's own task_instance records."""
        db = self.home / "airflow.db"
        if not run_id or not db.exists():
            return {}
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT task_id, SUM(duration) FROM task_instance WHERE dag_id = ? AND run_id = ? "
                                "GROUP BY task_id", (DAG_ID, run_id)).fetchall()
        order = ["plan_window", "preflight", "extract", "transform", "load", "reconcile", "commit_watermark"]
        # Tasks inside the per-chunk task group are reported by their own names (chunk.load -> load).
        seconds = {task_id.rsplit(".", 1)[-1]: round(d or 0.0, 3) for task_id, d in rows}
        return dict(sorted(seconds.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))

    def figures(self, run_id: str | None) -> dict | None:
        db = self.home / "sfdd_ledger.db"
        if not run_id or not db.exists():
            return None
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT figures FROM sfdd_run_stats WHERE dag_id = ? AND run_id = ?",
                               (DAG_ID, run_id)).fetchone()
        return json.loads(row[0]) if row else None

    def start_dotdigital(self, label: str) -> EmulatorProcess:
        state = self.work / f"dotdigital-{label}"
        shutil.rmtree(state, ignore_errors=True)
        return EmulatorProcess("dotdigital", state, ["--seed", "0", "--import-delay", str(self.import_delay)]).start()


def start_salesforce(work: Path, records: int, seed: int) -> EmulatorProcess:
    state = work / f"salesforce-{records}"
    shutil.rmtree(state, ignore_errors=True)
    return EmulatorProcess("salesforce", state, ["--generate", str(records), "--seed", str(seed), "--leads", "0",
                                                 "--memberships", "0"], startup_timeout=1800).start()


# -------------------------------------------------------------------------------------------- runs


def _figures_subset(figures: dict | None) -> dict:
    keys = ("read", "valid", "created", "updated", "rejected", "skipped", "kept_suppressed", "deleted", "chunks",
            "balanced", "rejected_by_code", "skipped_by_rule")
    return {k: figures.get(k) for k in keys} if figures else {}


def measured_run(bench: Bench, sf: EmulatorProcess, dd: EmulatorProcess, conf: dict, label: str,
                 repeat: int = 1) -> dict:
    connections = {**sf.connections, **dd.connections}
    sf_meter, dd_meter = salesforce_meter(sf).start(), dotdigital_meter(dd).start()
    pipeline, figures = bench.run_dag(conf, connections, label, repeat)
    salesforce, dotdigital = sf_meter.stop(), dd_meter.stop()
    read = (figures or {}).get("read") or 0
    return {
        "label": label,
        "conf": conf,
        "pipeline": pipeline,
        "records_per_second": round(read / pipeline["wall_seconds"]) if pipeline["wall_seconds"] else None,
        "figures": _figures_subset(figures),
        "salesforce": salesforce,
        "dotdigital": dotdigital,
        "contacts_in_dotdigital": dotdigital_meter(dd)._stats().get("contacts"),
    }


def change_contacts(sf: EmulatorProcess, count: int) -> dict:
    """Edit ``count`` Contacts through the REST API as a Salesforce user would; returns the edit's window."""
    from sandbox.salesforce.harness import admin, simple_salesforce_client

    client = simple_salesforce_client(sf)
    ids = [r["Id"] for r in client.query(f"SELECT Id FROM Contact ORDER BY Id LIMIT {count}")["records"]]
    # SystemModstamp has one-second resolution: start the window on the second before the first edit.
    before = datetime.fromisoformat(admin(sf, "GET", "clock")["now"].replace("Z", "+00:00"))
    since = (before - timedelta(seconds=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    stamp = datetime.now(UTC).strftime("%H%M%S")
    calls = 0
    for start in range(0, len(ids), 200):
        batch = [{"attributes": {"type": "Contact"}, "Id": i, "Title": f"Benchmark edit {stamp}"}
                 for i in ids[start:start + 200]]
        results = client.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": batch})
        calls += 1
        failed = [r for r in results if not r.get("success")]
        if failed:
            raise RuntimeError(f"{len(failed)} Contact updates failed, e.g. {failed[0]}")
    time.sleep(1.1)  # let the emulator clock pass the edits' second, so the run's window end is after them
    return {"changed": len(ids), "since": since, "update_calls": calls}


def bench_size(bench: Bench, records: int, runs: int, delta: int, seed: int) -> list[dict]:
    results = []
    started = time.monotonic()
    sf = start_salesforce(bench.work, records, seed)
    print(f"  Salesforce emulator with {records:,} Contacts ready in {time.monotonic() - started:.1f}s", flush=True)
    try:
        for i in range(runs):
            dd = bench.start_dotdigital(f"{records}-{i}")
            try:
                result = measured_run(bench, sf, dd, {"mode": "full"}, f"full-{records}-{i + 1}")
                result.update(kind="full", records=records, run=i + 1)
                results.append(result)
                _print_run(result)
                if delta and i == runs - 1:
                    edit = change_contacts(sf, delta)
                    result = measured_run(bench, sf, dd, {"mode": "delta", "since": edit["since"]},
                                          f"delta-{delta}-of-{records}")
                    result.update(kind="delta", records=records, changed=edit["changed"],
                                  edit_update_calls=edit["update_calls"], since=edit["since"], run=1)
                    results.append(result)
                    _print_run(result)
                    # The same window twice in one process: the second run is the delta's own cost, without
                    # the fresh process's start-up (re-syncing the window changes nothing, so it is the
                    # same work: the same records read and updated again).
                    result = measured_run(bench, sf, dd, {"mode": "delta", "since": edit["since"]},
                                          f"delta-{delta}-of-{records}-warm", repeat=2)
                    result.update(kind="delta_warm", records=records, changed=edit["changed"], since=edit["since"],
                                  run=1)
                    results.append(result)
                    _print_run(result)
            finally:
                dd.stop()
    finally:
        sf.stop()
        shutil.rmtree(bench.work / f"salesforce-{records}", ignore_errors=True)
    return results


def _print_run(r: dict) -> None:
    p, f = r["pipeline"], r["figures"]
    print(f"  {r['label']}: {p['state']} wall {p['wall_seconds']:.1f}s cpu {p['cpu_seconds']:.1f}s "
          f"peak {p['peak_rss_mb']:.0f} MB (tree {p['peak_tree_rss_mb']:.0f} MB) read {f.get('read')} "
          f"created {f.get('created')} updated {f.get('updated')} rejected {f.get('rejected')} "
          f"SF calls {r['salesforce']['api_calls_total']} DD calls {r['dotdigital']['api_calls_total']}\n"
          f"    task seconds {p['task_seconds']} outside tasks {p['outside_tasks_seconds']:.1f}s "
          f"dag.test() seconds {p['dag_test_seconds']}", flush=True)


# ----------------------------------------------------------------------------------------- summary


def _imports(r: dict) -> int:
    return r["dotdigital"]["api_calls"].get("PUT /contacts/v3/import", 0)


def summarise(results: list[dict]) -> dict:
    """Medians per size and the issue's targets, checked."""
    full_by_size: dict[int, list[dict]] = {}
    for r in results:
        if r["kind"] == "full":
            full_by_size.setdefault(r["records"], []).append(r)
    sizes = {}
    for records, runs in sorted(full_by_size.items()):
        walls = [r["pipeline"]["wall_seconds"] for r in runs]
        med = sorted(runs, key=lambda r: r["pipeline"]["wall_seconds"])[len(runs) // 2]
        sf_calls = med["salesforce"]["api_calls_total"]
        sizes[str(records)] = {
            "runs": len(runs),
            "all_succeeded": all(r["pipeline"]["state"] == "success" for r in runs),
            "wall_seconds_median": round(median(walls), 2),
            "wall_seconds_all": walls,
            "cpu_seconds_median": round(median([r["pipeline"]["cpu_seconds"] for r in runs]), 2),
            "peak_rss_mb_median": round(median([r["pipeline"]["peak_rss_mb"] for r in runs]), 1),
            "peak_tree_rss_mb_max": round(max(r["pipeline"]["peak_tree_rss_mb"] for r in runs), 1),
            "records_per_second_median": round(records / median(walls)),
            "salesforce_api_calls": med["salesforce"]["api_calls"],
            "salesforce_records_per_api_call": round(records / sf_calls) if sf_calls else None,
            "dotdigital_api_calls": med["dotdigital"]["api_calls"],
            "dotdigital_import_calls": _imports(med),
            "emulator_cpu_seconds_median": {
                "salesforce": round(median([r["salesforce"]["cpu_seconds"] for r in runs]), 2),
                "dotdigital": round(median([r["dotdigital"]["cpu_seconds"] for r in runs]), 2)},
            "emulator_peak_rss_mb": {"salesforce": max(r["salesforce"]["peak_rss_mb"] for r in runs),
                                     "dotdigital": max(r["dotdigital"]["peak_rss_mb"] for r in runs)},
        }
    summary: dict = {"full": sizes}
    deltas = [r for r in results if r["kind"] == "delta"]
    if deltas:
        d = deltas[-1]
        full = sizes.get(str(d["records"]), {})
        summary["delta"] = {
            "records": d["records"], "changed": d["changed"], "read_by_window": d["figures"].get("read"),
            "state": d["pipeline"]["state"], "wall_seconds": d["pipeline"]["wall_seconds"],
            "cpu_seconds": d["pipeline"]["cpu_seconds"], "peak_rss_mb": d["pipeline"]["peak_rss_mb"],
            "share_of_full_load_wall": round(d["pipeline"]["wall_seconds"] / full["wall_seconds_median"], 4)
            if full else None,
            "salesforce_api_calls": d["salesforce"]["api_calls"], "dotdigital_api_calls": d["dotdigital"]["api_calls"],
        }
        warm = [r for r in results if r["kind"] == "delta_warm"]
        if warm and full and warm[-1]["pipeline"]["state"] == "success":
            # The second dag.test() in one process: what the delta itself costs. The difference to the cold
            # run is start-up that any run pays once (interpreter, imports, DagBag, Execution API routes),
            # so it comes off the full load too before the two are compared.
            own = warm[-1]["pipeline"]["dag_test_seconds"][-1]
            start_up = max(0.0, d["pipeline"]["wall_seconds"] - own)
            summary["delta"].update(
                own_seconds=own, start_up_seconds=round(start_up, 2),
                own_share_of_full_load=round(own / (full["wall_seconds_median"] - start_up), 4))
    summary["targets"] = _targets(summary)
    return summary


def _targets(summary: dict) -> dict:
    sizes = summary["full"]
    checks = {}
    if "1000000" in sizes:
        checks["full_1m_wall_le_120s"] = sizes["1000000"]["wall_seconds_median"] <= 120
    peaks = [s["peak_rss_mb_median"] for s in sizes.values()]
    checks["peak_rss_le_1gb"] = all(p <= 1024 for p in peaks)
    if len(peaks) > 1:
        checks["peak_rss_flat_within_25pct"] = max(peaks) <= 1.25 * min(peaks)
    checks["salesforce_ge_2000_records_per_call"] = all(
        (s["salesforce_records_per_api_call"] or 0) >= 2000 for s in sizes.values())
    checks["dotdigital_le_1_import_per_10k"] = all(
        s["dotdigital_import_calls"] <= -(-int(k) // 10_000) for k, s in sizes.items())
    if "delta" in summary and summary["delta"]["share_of_full_load_wall"] is not None:
        checks["delta_le_5pct_of_full"] = summary["delta"]["share_of_full_load_wall"] <= 0.05
        if "own_share_of_full_load" in summary["delta"]:
            checks["delta_own_cost_le_5pct_of_full"] = summary["delta"]["own_share_of_full_load"] <= 0.05
    return checks


# -------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", default="100000,1000000", help="comma-separated Contact counts")
    parser.add_argument("--runs", type=int, default=None,
                        help=f"full runs per size (default: 3 up to {SMALL_RUN_LIMIT:,} records, else 1)")
    parser.add_argument("--delta", type=int, default=1000,
                        help="Contacts changed before the delta run after the largest size (0: no delta)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--import-delay", type=float, default=0.0,
                        help="Dotdigital emulator: minimum seconds an import stays NotFinished (default 0, so "
                             "the figures are the package's own work, not a simulated queue)")
    parser.add_argument("--profile", action="store_true", help="run the DAG under cProfile (.prof next to the logs)")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "contact_sync.json")
    parser.add_argument("--work-dir", type=Path, default=None, help="default: a temporary folder, removed after")
    args = parser.parse_args(argv)

    sizes = sorted(int(x) for x in args.records.split(",") if x.strip())
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="sfdd-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        bench = Bench(work, args.import_delay, args.profile)
        print(f"Airflow metadata DB migrated in {bench.migrate_seconds}s ({work})", flush=True)
        results = []
        for records in sizes:
            runs = args.runs or (3 if records <= SMALL_RUN_LIMIT else 1)
            print(f"\n{records:,} Contacts, {runs} full run(s)", flush=True)
            results += bench_size(bench, records, runs, args.delta if records == sizes[-1] else 0, args.seed)
        summary = summarise(results)
        path = write_results(args.output, {
            "benchmark": "contact_sync", "dag_id": DAG_ID, "sizes": sizes, "seed": args.seed,
            "import_delay_seconds": args.import_delay, "chunk_size": _chunk_size(),
            "total_seconds": round(time.monotonic() - started, 1), "summary": summary,
            "runs": [{k: v for k, v in r.items()} for r in results]})
        print(f"\nTargets: {json.dumps(summary['targets'])}\nResults written to {path}", flush=True)
        ok = all(r["pipeline"]["state"] == "success" for r in results)
        return 0 if ok else 1
    finally:
        if args.work_dir is None and not args.profile:
            shutil.rmtree(work, ignore_errors=True)


def _chunk_size() -> int | None:
    for line in MAPPING.read_text().splitlines():
        if line.startswith("chunk_size:"):
            return int(line.split(":", 1)[1].split("#")[0])
    return None


if __name__ == "__main__":
    sys.exit(main())
