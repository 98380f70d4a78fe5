"""Measurement shared by the benchmarks: one way to time a pipeline and one way to read the emulators.

The pipeline under test always runs as a child process (``scripts/run_dag.py`` for the DAG, a worker
mode of the script for the naive approach), so its figures never include the benchmark driver or the
emulators:

* wall time: monotonic clock around the child;
* CPU time: user + system of the child and every descendant it reaped, from ``wait4()`` (exact, not
  sampled);
* peak memory: the kernel's high-water mark of the largest process (``ru_maxrss`` from ``wait4()``), and
  the largest *sum* of RSS over the whole process tree seen while sampling it with psutil every 50 ms
  (what a container limit would have to allow).

The emulators are separate processes; their API call counts per endpoint, CPU time and peak RSS come
from ``GET /__sandbox__/stats`` and psutil and are reported apart from the pipeline's.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

MB = 2**20


@dataclass
class ProcessUsage:
    """What one pipeline child process (and its descendants) cost."""

    returncode: int
    wall_seconds: float
    cpu_seconds: float
    cpu_user_seconds: float
    cpu_system_seconds: float
    peak_rss_mb: float  # largest single process, from the kernel (ru_maxrss)
    peak_tree_rss_mb: float  # largest sampled sum over the process tree
    processes_seen: int

    def to_dict(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def run_measured(cmd: list[str], *, env: dict | None = None, cwd: Path | None = None, log_path: Path | None = None,
                 sample_seconds: float = 0.05) -> tuple[ProcessUsage, str]:
    """Run ``cmd`` to completion, sampling its process tree; returns (usage, the child's stdout)."""
    with open(log_path or os.devnull, "ab") as err, tempfile.TemporaryFile() as out:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        root = psutil.Process(proc.pid)
        seen: set[int] = {proc.pid}
        peak_tree = 0
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                break
            peak_tree = max(peak_tree, _tree_rss(root, seen))
            time.sleep(sample_seconds)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read().decode("utf-8", "replace")
    usage = ProcessUsage(
        returncode=proc.returncode,
        wall_seconds=wall,
        cpu_seconds=rusage.ru_utime + rusage.ru_stime,
        cpu_user_seconds=rusage.ru_utime,
        cpu_system_seconds=rusage.ru_stime,
        peak_rss_mb=rusage.ru_maxrss / 1024,  # Linux reports KiB
        peak_tree_rss_mb=max(peak_tree, rusage.ru_maxrss * 1024) / MB,
        processes_seen=len(seen),
    )
    return usage, stdout


def _tree_rss(root: psutil.Process, seen: set[int]) -> int:
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
            seen.add(p.pid)
        except psutil.Error:
            continue
    return total


# ---------------------------------------------------------------------------------------- emulators


class EmulatorMeter:
    """Counts one emulator's API calls and CPU between ``start()`` and ``stop()``.

    ``stats()`` is a callable returning the emulator's ``/__sandbox__/stats`` body. The Salesforce
    emulator names its counter ``api_calls``, the Dotdigital one ``calls``; both are read.
    """

    def __init__(self, name: str, pid: int, stats):
        self.name, self.pid, self._stats = name, pid, stats
        self._before: Counter = Counter()
        self._cpu_before = 0.0

    @staticmethod
    def _calls(body: dict) -> Counter:
        return Counter(body.get("api_calls") or body.get("calls") or {})

    def _cpu(self) -> float:
        try:
            t = psutil.Process(self.pid).cpu_times()
        except psutil.Error:
            return 0.0
        return t.user + t.system

    def start(self) -> EmulatorMeter:
        self._before = self._calls(self._stats())
        self._cpu_before = self._cpu()
        return self

    def stop(self) -> dict:
        body = self._stats()
        calls = self._calls(body)
        calls.subtract(self._before)
        calls = {k: v for k, v in sorted(calls.items()) if v}
        return {
            "api_calls": calls,
            "api_calls_total": sum(calls.values()),
            "cpu_seconds": round(self._cpu() - self._cpu_before, 3),
            "peak_rss_mb": round((body.get("peak_rss_bytes") or 0) / MB, 1),
        }


def salesforce_meter(emulator) -> EmulatorMeter:
    from sandbox.salesforce.harness import admin

    return EmulatorMeter("salesforce", emulator.proc.pid, lambda: admin(emulator, "GET", "stats"))


def dotdigital_meter(emulator) -> EmulatorMeter:
    import requests

    def stats() -> dict:
        response = requests.get(f"{emulator.base_url}/__sandbox__/stats", timeout=60)
        response.raise_for_status()
        return response.json()

    return EmulatorMeter("dotdigital", emulator.proc.pid, stats)


# ------------------------------------------------------------------------------------------ results


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def machine() -> dict:
    """The machine the figures were measured on; they only compare on the same one."""
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": psutil.cpu_count(logical=True),
        "cpu_model": cpu_model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
    }


def write_results(path: Path, results: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {**results, "machine": machine(), "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path
