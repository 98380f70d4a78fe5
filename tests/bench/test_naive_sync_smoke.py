"""The naive-sync benchmark runs on ~1,000 Contacts and writes per-1,000 figures that add up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_naive_benchmark_writes_consistent_figures(tmp_path):
    out = tmp_path / "naive_sync.json"
    subprocess.run([sys.executable, str(REPO / "bench" / "naive_sync.py"), "--records", "1000",
                    "--read-records", "2000", "--output", str(out)], check=True, cwd=REPO, timeout=240,
                   capture_output=True)
    result = json.loads(out.read_text())
    full, read_only = result["runs"]
    phases = full["phases"]
    assert full["kind"] == "full" and full["records"] == 1000
    assert phases["records_read"] == 1000
    assert phases["written"] + phases["failed"] + phases["skipped"] == 1000
    assert phases["written"] > 900
    # one Dotdigital call per contact written or failed: the approach's defining cost
    patches = full["dotdigital"]["api_calls"]["PATCH /contacts/v3/{identifier}/{value}"]
    assert patches == phases["written"] + phases["failed"]
    # REST query_all pages of at most 2,000 records
    assert full["salesforce"]["api_calls"]["GET /services/data/vXX.X/query"] == 1
    assert full["per_1000_records"]["dotdigital_api_calls"] >= 900
    assert full["pipeline"]["peak_rss_mb"] > 0

    assert read_only["kind"] == "read_only" and read_only["phases"]["records_read"] == 2000
    assert "dotdigital_seconds" not in read_only["phases"]
    assert read_only["dotdigital"]["api_calls_total"] == 0
    assert result["extrapolated_linear_to_1m"]["dotdigital_api_calls"] >= 900_000
