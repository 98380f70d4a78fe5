"""The Dotdigital import benchmark runs end to end on ~1,000 records and writes a sensible result file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_benchmark_writes_consistent_figures(tmp_path):
    out = tmp_path / "dotdigital_emulator.json"
    subprocess.run([sys.executable, str(REPO / "bench" / "dotdigital_emulator.py"), "--records", "1000",
                    "--chunk", "300", "--in-flight", "2", "--out", str(out)], check=True, cwd=REPO, timeout=300,
                   capture_output=True)
    figures = json.loads(out.read_text())
    assert figures["records"] == 1000 and figures["imports"] == 4
    assert figures["created"] == figures["contacts_in_book"] == 1000
    assert figures["failed"] == 0 and figures["updated"] == 0
    assert figures["api_calls"]["PUT /contacts/v3/import"] == 4
    assert figures["api_calls_total"] >= 4 + 4  # four submissions and at least one status poll each
    assert figures["emulator_peak_rss_mb"] > 0 and figures["emulator_pid"] > 0
