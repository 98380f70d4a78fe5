"""Airflow's plugin scan runs every .py file under plugins/ in every component; it must not run the package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
from airflow._shared.plugins_manager.plugins_manager import _load_plugins_from_plugin_directory
before = set(sys.modules)
plugins, errors = _load_plugins_from_plugin_directory({plugins!r})
loaded = sorted(set(sys.modules) - before)
print(json.dumps({{"errors": errors, "heavy": [m for m in ("simple_salesforce", "pandas", "pyarrow", "pandera")
                                                if m in loaded], "package_files": [m for m in loaded
                                                if m in ("salesforce", "dotdigital", "contact_sync", "ledger")]}}))
"""


def test_the_plugin_scan_skips_the_package_and_imports_nothing_heavy():
    out = subprocess.run([sys.executable, "-c", _PROBE.format(plugins=str(REPO / "plugins"))],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"errors": {}, "heavy": [], "package_files": []}
