"""
### Salesforce → Dotdigital contact sync

One DAG per mapping file in `include/mappings/`. Each run:

1. **plan_window** – decides which Salesforce changes to read: `[min(watermark, data_interval_start) − lookback,
   data_interval_end)`, or everything for `mode=full`, or from the `since` param.
2. **preflight** – checks the mapping against Salesforce `describe()` and Dotdigital's data fields; creates missing
   data fields and address books; a type clash fails the run before anything is written.
3. **extract** – a Bulk API 2.0 query (queryAll for deltas, so deletions are seen) streamed to Parquet chunks in the
   staging area.
Steps 4 and 5 form one task group mapped over the chunks, so a chunk's load starts as soon as its transform ends.

4. **chunk.transform** – mapping, consent and segment rules, then a pandera schema; valid rows and rejects
   go to separate files, rejects to the ledger.
5. **chunk.load** (two slots of pool `dotdigital_imports`) – Dotdigital v3 bulk imports of up to 12,500
   contacts, two in flight, each polled to the end; per-contact failures join the rejects. Deleted Salesforce
   records leave the address book.
6. **reconcile** – `read = created + updated + rejected + skipped + deleted`, or the run fails; prints the summary table.
7. **commit_watermark** – moves the sync's watermark Variable forward, only after everything above succeeded.

Params: `mode` (delta/full), `dry_run` (files and report only, nothing sent to Dotdigital), `since` (override start).
Rejects, with the staging file and row of their payload, are in the ledger (`sfdd_rejects`).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, CronDataIntervalTimetable, Param, task, task_group

from sfdd.mapping.loader import load_mappings
from sfdd.sync import contact_sync as steps

# SFDD_RETRY_DELAY_SECONDS shortens task retries for local runs (dag.test() waits them out in real time).
DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 3,
    "retry_delay": timedelta(seconds=float(os.environ.get("SFDD_RETRY_DELAY_SECONDS", "30"))),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
}


def build_dag(mapping) -> DAG:
    with DAG(
        dag_id=f"sfdd_contact_sync__{mapping.name}",
        description=mapping.description or f"{mapping.source.object} → Dotdigital",
        schedule=CronDataIntervalTimetable(mapping.schedule, timezone="UTC") if mapping.schedule else None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["sfdd", "salesforce", "dotdigital", "contact-sync", mapping.source.object],
        doc_md=__doc__ + f"\n\n**Mapping:** sync `{mapping.name}` in `include/mappings/` "
                         f"({mapping.source.object} → {', '.join(mapping.target.address_books)})",
        params={
            "mode": Param("delta", type="string", enum=["delta", "full"], title="Mode",
                          description="delta reads changes since the watermark; full reads every record."),
            "dry_run": Param(False, type="boolean", title="Dry run",
                             description="Write the staging files and the report; send nothing to Dotdigital."),
            "since": Param(None, type=["null", "string"], format="date-time", title="Since",
                           description="Override the window start (UTC). Empty: use the watermark."),
        },
    ) as dag:
        name = mapping.name

        @task
        def plan_window(**context) -> dict:
            return steps.plan_window(name, context)

        @task
        def preflight(window: dict) -> dict:
            return steps.preflight(name, window)

        @task
        def extract(window: dict) -> list[dict]:
            return steps.extract(name, window, steps.task_ref())

        @task
        def transform(chunk: dict, prepared: dict) -> dict:
            return steps.transform(name, chunk, prepared, steps.task_ref())

        @task(pool=steps.IMPORT_POOL, pool_slots=steps.IMPORTS_IN_FLIGHT, max_active_tis_per_dag=8, retries=4)
        def load(transformed: dict, prepared: dict, window: dict) -> dict:
            return steps.load(name, transformed, prepared, window, steps.task_ref())

        @task_group
        def chunk(staged: dict, prepared: dict, window: dict):
            """One staged chunk: load[i] can start as soon as transform[i] ends, not after every transform."""
            return load(transform(staged, prepared), prepared, window)

        @task
        def reconcile(chunk_results: list[dict], window: dict) -> dict:
            # Airflow 3.3 hands a mapped group's only result over bare, not as a one-item sequence.
            results = [chunk_results] if isinstance(chunk_results, dict) else list(chunk_results)
            return steps.reconcile(name, results, window, steps.task_ref())

        @task
        def commit_watermark(summary: dict, window: dict) -> dict:
            return steps.commit_watermark(name, summary, window, steps.task_ref())

        window = plan_window()
        prepared = preflight(window)
        chunks = extract(window)
        prepared >> chunks
        chunk_results = chunk.partial(prepared=prepared, window=window).expand(staged=chunks)
        summary = reconcile(chunk_results, window)
        commit_watermark(summary, window)
    return dag


# The same folder the steps read their mapping from (SFDD_MAPPINGS_DIR, default include/mappings).
for _mapping in load_mappings(steps.MAPPINGS_DIR).values():
    _dag = build_dag(_mapping)
    globals()[_dag.dag_id] = _dag
