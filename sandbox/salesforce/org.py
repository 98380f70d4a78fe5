"""The emulated org: every piece of server state in one object the routes share."""

from __future__ import annotations

import resource
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.salesforce.auth import Tokens
from sandbox.salesforce.bulk import BulkJobs
from sandbox.salesforce.clock import Clock
from sandbox.salesforce.faults import Faults
from sandbox.salesforce.queries import Cursors
from sandbox.salesforce.schema import SObject
from sandbox.salesforce.store import Store
from sandbox.salesforce.writes import Writer


@dataclass
class Quota:
    """The org's rolling 24-hour API request allocation, as reported by Sforce-Limit-Info and /limits."""
    max: int
    used: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bool:
        with self._lock:
            if self.used >= self.max:
                return False
            self.used += 1
            return True

    def header(self) -> str:
        return f"api-usage={self.used}/{self.max}"


class Org:
    def __init__(self, state_dir: Path, objects: dict[str, SObject], clock: Clock, faults: Faults,
                 tokens: Tokens, daily_quota: int):
        self.state_dir = Path(state_dir)
        self.objects = objects
        self.clock = clock
        self.faults = faults
        self.tokens = tokens
        self.quota = Quota(daily_quota)
        self.store = Store(self.state_dir, objects, clock)
        self.writer = Writer(self.store, faults)
        self.cursors = Cursors(self.store)
        self.bulk = BulkJobs(self.store, self.writer, faults, self.state_dir)
        self.calls: Counter = Counter()
        self._calls_lock = threading.Lock()

    def object(self, name: str) -> SObject:
        from sandbox.salesforce.errors import ApiError

        obj = self.objects.get(name)
        if obj is None:
            lowered = name.lower()
            obj = next((o for o in self.objects.values() if o.name.lower() == lowered), None)
        if obj is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return obj

    def count_call(self, key: str) -> None:
        with self._calls_lock:
            self.calls[key] += 1

    def stats(self) -> dict:
        import os

        usage = resource.getrusage(resource.RUSAGE_SELF)
        rss = None
        try:
            import psutil

            rss = psutil.Process().memory_info().rss
        except ImportError:  # psutil is a dev dependency; peak RSS alone is enough for benchmarks
            pass
        with self._calls_lock:
            calls = dict(self.calls)
        return {"pid": os.getpid(), "peak_rss_bytes": usage.ru_maxrss * 1024, "rss_bytes": rss,
                "api_calls": calls, "api_calls_total": sum(calls.values()),
                "api_usage": {"used": self.quota.used, "max": self.quota.max},
                "tokens_issued": self.tokens.issued, "faults": self.faults.snapshot()}
