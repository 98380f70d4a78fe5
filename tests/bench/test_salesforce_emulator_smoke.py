"""The Salesforce emulator benchmark runs end to end on ~1,000 records and writes a sensible result file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_benchmark_writes_consistent_figures(tmp_path):
    out = tmp_path / "salesforce_emulator.json"
    subprocess.run([sys.executable, str(REPO / "bench" / "salesforce_emulator.py"), "--records", "1000",
                    "--page-size", "300", "--output", str(out)], check=True, cwd=REPO, timeout=300,
                   capture_output=True)
    figures = json.loads(out.read_text())
    assert figures["records"] == figures["rows_downloaded"] == 1000
    assert figures["pages"] == 4 and figures["rows_per_page"] == [300, 300, 300, 100]
    assert figures["csv_header"][:2] == ["Id", "FirstName"] and "Account.Name" in figures["csv_header"]
    assert figures["api_calls"]["POST /services/data/vXX.X/jobs/query"] == 1
    assert figures["api_calls"]["GET /services/data/vXX.X/jobs/query/{id}/results"] == 4
    assert figures["emulator_peak_rss_mb"] >= figures["emulator_peak_rss_mb_after_load"] > 0
    assert figures["generate_and_load_seconds"] >= 0 and figures["bulk_query_download_seconds"] > 0
    assert figures["bytes_downloaded"] > 1000 * 50
