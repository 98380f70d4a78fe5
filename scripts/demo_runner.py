"""The Airflow half of the demo; imported only after scripts/local_env.configure() set the environment."""

from __future__ import annotations

import time

from local_env import REPO


class _Run:
    def __init__(self, run_id: str | None, state: str, log_path):
        self.run_id, self.state, self.log_path = run_id, state, log_path


def _run(dag_id: str, conf: dict, log_dir) -> _Run:
    """dag.test() in a child process; its task logs go to a file, the console keeps the summaries."""
    import json
    import os
    import subprocess
    import sys

    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{dag_id}-{conf.get('mode', 'run')}.log"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "scripts"), os.environ.get("PYTHONPATH", "")]))
    with open(log_path, "w") as log:
        proc = subprocess.run([sys.executable, str(REPO / "scripts" / "run_dag.py"), dag_id, json.dumps(conf)],
                              stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=REPO)
        log.write(proc.stdout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('{"dag_id"')]
    if not lines:
        return _Run(None, "failed", log_path)
    result = json.loads(lines[-1])
    return _Run(result["run_id"], result["state"], log_path)


def _figures(dag_id: str, run_id: str) -> dict | None:
    from sfdd.state.ledger import Ledger

    return Ledger().run_figures(dag_id, run_id)


def _print_summaries(title: str, results: list[tuple[str, object]]) -> bool:
    from sfdd.sync.contact_sync import format_summary

    print(f"\n=== {title} ===")
    ok = True
    for dag_id, dr in results:
        state = dr.state
        figures = _figures(dag_id, dr.run_id) if dr.run_id else None
        print(f"\n{dag_id}: run {state} (task logs: {dr.log_path.relative_to(REPO)})")
        if figures:
            print(format_summary(dag_id.split("__", 1)[-1], figures["window"], figures))
        ok = ok and state == "success"
    return ok


def _print_sample_rejects(run_id: str | None, per_code: int = 1) -> None:
    """One reject per error code, as an operator would see it in the ledger (no contact data)."""
    from sfdd.state.ledger import Ledger

    if not run_id:
        return
    seen: set[str] = set()
    print("\nSample rejects from the ledger (table sfdd_rejects):")
    for r in Ledger().rejects_for_run("sfdd_contact_sync__contact", run_id):
        if r["error_code"] in seen:
            continue
        seen.add(r["error_code"])
        print(f"  {r['sf_id']}  {r['field']:<12} {r['error_code']:<22} {r['message'][:60]}  "
              f"(payload: {r['payload_ref'].rsplit('/', 3)[-1]} row {r['payload_row']})")


def _change_salesforce(limit: int = 40) -> dict:
    """Edit, opt out and delete some Contacts through the real REST API, as a user in Salesforce would."""
    from sfdd.hooks.salesforce import SalesforceApiHook

    sf = SalesforceApiHook().get_conn()
    rows = sf.query(f"SELECT Id, Email FROM Contact WHERE Email LIKE '%@example.%' "
                    f"AND HasOptedOutOfEmail = false LIMIT {limit}")["records"]
    edited, opted_out, deleted = rows[:20], rows[20:30], rows[30:40]
    for r in edited:
        sf.Contact.update(r["Id"], {"Title": "Head of Demo"})
    for r in opted_out:
        sf.Contact.update(r["Id"], {"HasOptedOutOfEmail": True, "SMS_Opt_Out__c": True})
    for r in deleted:
        sf.Contact.delete(r["Id"])
    return {"edited": [r["Email"] for r in edited], "opted_out": len(opted_out), "deleted": len(deleted)}


def _unsubscribe_in_dotdigital(emails: list[str]) -> None:
    """Contacts who unsubscribed in Dotdigital (say from an email footer) while Salesforce still says subscribed."""
    from sfdd.hooks.dotdigital import DotdigitalHook

    dd = DotdigitalHook()
    for email in emails:
        dd.request("POST", "/v2/contacts/unsubscribe", json={"email": email})


def _email_status(emails: list[str]) -> list[str]:
    from sfdd.hooks.dotdigital import DotdigitalHook

    dd = DotdigitalHook()
    return [((dd.get_contact("email", e) or {}).get("channelProperties") or {}).get("email", {}).get("status")
            for e in emails]


def run_demo(sf, dd, started: float) -> int:
    import subprocess
    import sys
    from pathlib import Path

    from sfdd.mapping.loader import load_mappings

    logs = REPO / ".airflow" / "demo" / "dag-logs"
    logs.mkdir(parents=True, exist_ok=True)
    print("Preparing the project-local Airflow metadata DB (SQLite) ...")
    with open(logs / "db-migrate.log", "w") as log:
        subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], stdout=log, stderr=log,
                       check=True)
    syncs = sorted(f"sfdd_contact_sync__{name}" for name in load_mappings(REPO / "include" / "mappings"))
    print(f"DAGs: {', '.join(syncs)}")

    full = [(dag_id, _run(dag_id, {"mode": "full"}, logs)) for dag_id in syncs]
    ok = _print_summaries("Full load", full)
    _print_sample_rejects(full[0][1].run_id)

    time.sleep(1.1)  # SystemModstamp has one-second resolution: keep the edits after the full load's window
    changes = _change_salesforce()
    unsubscribed = changes["edited"][:5]
    _unsubscribe_in_dotdigital(unsubscribed)
    print(f"\nChanged in Salesforce: {len(changes['edited'])} Contacts edited, {changes['opted_out']} opted out of "
          f"email and SMS, {changes['deleted']} deleted.\nIn Dotdigital, {len(unsubscribed)} of the edited contacts "
          f"unsubscribed themselves (Salesforce still says subscribed).")
    delta = [(dag_id, _run(dag_id, {"mode": "delta"}, logs)) for dag_id in syncs]
    ok = _print_summaries("Delta after the changes", delta) and ok
    statuses = _email_status(unsubscribed)
    kept = sum(s == "unsubscribed" for s in statuses)
    print(f"\nConsent check: {kept} of {len(unsubscribed)} contacts who unsubscribed in Dotdigital are still "
          f"unsubscribed after the delta ({'never widened' if kept == len(unsubscribed) else 'WIDENED!'}).")
    ok = ok and kept == len(unsubscribed)
    print(f"\nDemo {'finished' if ok else 'FAILED'} in {time.monotonic() - started:.1f}s. "
          f"Rejects and run figures are in the ledger ({REPO / '.airflow' / 'demo' / 'sfdd_ledger.db'}).")
    return 0 if ok else 1
