"""The contact sync benchmark runs end to end on ~1,000 Contacts and writes a result file that adds up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_contact_sync_benchmark_writes_consistent_figures(tmp_path):
    out = tmp_path / "contact_sync.json"
    subprocess.run([sys.executable, str(REPO / "bench" / "contact_sync.py"), "--records", "1000", "--runs", "1",
                    "--delta", "50", "--output", str(out), "--work-dir", str(tmp_path / "work")],
                   check=True, cwd=REPO, timeout=240, capture_output=True)
    result = json.loads(out.read_text())
    full, delta, warm = result["runs"]
    assert full["kind"] == "full" and full["pipeline"]["state"] == "success"
    figures = full["figures"]
    assert figures["read"] == 1000 and figures["balanced"] is True
    assert figures["created"] + figures["updated"] + figures["rejected"] + figures["skipped"] == 1000
    assert full["contacts_in_dotdigital"] == figures["created"]
    assert full["dotdigital"]["api_calls"]["PUT /contacts/v3/import"] == 1
    assert full["salesforce"]["api_calls"]["POST /services/data/vXX.X/jobs/query"] == 1
    assert full["pipeline"]["cpu_seconds"] > 0 and full["pipeline"]["peak_rss_mb"] > 0
    assert set(full["pipeline"]["task_seconds"]) >= {"extract", "transform", "load", "reconcile"}

    # the delta reads exactly the edited records, and writes them as updates
    assert delta["kind"] == "delta" and delta["pipeline"]["state"] == "success"
    assert delta["changed"] == 50 and delta["figures"]["read"] == 50
    assert delta["figures"]["created"] == 0
    assert delta["figures"]["updated"] + delta["figures"]["rejected"] == 50
    assert delta["contacts_in_dotdigital"] == figures["created"]

    # the same window twice in one process: both runs re-read the 50 records, each dag.test() is timed
    assert warm["kind"] == "delta_warm" and warm["pipeline"]["state"] == "success"
    assert len(warm["pipeline"]["dag_test_seconds"]) == 2 and all(s > 0 for s in warm["pipeline"]["dag_test_seconds"])
    assert warm["figures"]["read"] == 50 and warm["figures"]["created"] == 0
    assert warm["salesforce"]["api_calls"]["POST /services/data/vXX.X/jobs/query"] == 2
    assert warm["contacts_in_dotdigital"] == figures["created"]

    summary = result["summary"]
    own = summary["delta"]["own_seconds"]
    assert own == warm["pipeline"]["dag_test_seconds"][-1]
    assert summary["delta"]["start_up_seconds"] == round(max(0.0, delta["pipeline"]["wall_seconds"] - own), 2)
    assert "delta_own_cost_le_5pct_of_full" in summary["targets"]
    assert summary["full"]["1000"]["runs"] == 1 and summary["full"]["1000"]["all_succeeded"]
    assert summary["delta"]["read_by_window"] == 50
    assert set(summary["targets"]) >= {"peak_rss_le_1gb", "salesforce_ge_2000_records_per_call",
                                       "dotdigital_le_1_import_per_10k", "delta_le_5pct_of_full"}
    assert result["machine"]["cpus"] >= 1
