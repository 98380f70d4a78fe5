"""`make bench`: run every benchmark script in bench/ with its default arguments, one after another.

Each script starts the emulators it needs, measures, and writes bench/results/<name>.json; see
docs/benchmarks.md for what is measured and the latest figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(p for p in BENCH.glob("*.py") if p.name not in ("run_all.py",) and not p.name.startswith("_"))
    selected = [p for p in scripts if not argv or p.stem in argv]
    failed = []
    for script in selected:
        print(f"\n### {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=BENCH.parent).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
