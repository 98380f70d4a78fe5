"""Fault injection: rules set at start-up (``--faults JSON``) or at run time (``/__sandbox__/faults``).

A rule is ``{"kind", "path"?, "method"?, "count"?, "rate"?, "after"?, "status"?, "delay_seconds"?}``:
``path`` is a regular expression searched in the request path (or, for record-level kinds, in
``/sobjects/<Object>``), ``count`` caps how often it fires, ``rate`` is a probability drawn from a
seeded generator (so a run is repeatable), ``after`` lets that many matching requests pass first.

Kinds answered before the request reaches its endpoint: ``server_error`` (``status`` 500 default, or
502/503), ``request_limit`` (403 REQUEST_LIMIT_EXCEEDED), ``expire_token`` (the caller's token is
revoked and the call answered 401 INVALID_SESSION_ID), ``slow`` (``delay_seconds`` then normal).
Kinds applied inside endpoints: ``unable_to_lock_row`` (one record write fails with
UNABLE_TO_LOCK_ROW), ``bulk_job_fail`` (a Bulk 2.0 job ends ``Failed``), ``bulk_job_stuck`` (a Bulk 2.0
job stays ``InProgress`` until aborted).
"""

from __future__ import annotations

import random
import re
import threading

KINDS = {"server_error", "request_limit", "expire_token", "slow", "unable_to_lock_row", "bulk_job_fail",
         "bulk_job_stuck"}


class Faults:
    def __init__(self, rules: list[dict] | None = None, seed: int = 0):
        self._lock = threading.Lock()
        self.seed = seed
        self._rng = random.Random(seed)
        self.rules: list[dict] = []
        self.fired: dict[str, int] = {}
        for rule in rules or []:
            self.add(rule)

    @staticmethod
    def parse(spec: str | dict | list | None) -> tuple[list[dict], int]:
        """``--faults`` accepts a list of rules or ``{"seed": n, "rules": [...]}``."""
        import json

        if not spec:
            return [], 0
        data = json.loads(spec) if isinstance(spec, str) else spec
        if isinstance(data, list):
            return data, 0
        return list(data.get("rules", [])), int(data.get("seed", 0))

    def add(self, rule: dict) -> dict:
        kind = rule.get("kind")
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(KINDS)}")
        stored = {"kind": kind, "path": rule.get("path"), "method": (rule.get("method") or "").upper() or None,
                  "count": rule.get("count"), "rate": float(rule.get("rate", 1.0)), "after": int(rule.get("after", 0)),
                  "status": int(rule.get("status", 500)), "delay_seconds": float(rule.get("delay_seconds", 0)),
                  "seen": 0, "fired": 0}
        if stored["path"]:
            re.compile(stored["path"])
        with self._lock:
            self.rules.append(stored)
        return stored

    def reset(self, rules: list[dict] | None = None, seed: int | None = None) -> None:
        with self._lock:
            self.rules = []
            if seed is not None:
                self.seed = seed
            self._rng = random.Random(self.seed)
        for rule in rules or []:
            self.add(rule)

    def fire(self, kind: str, path: str, method: str | None = None) -> dict | None:
        """The first matching rule that decides to fire now, or None."""
        with self._lock:
            for rule in self.rules:
                if rule["kind"] != kind:
                    continue
                if rule["path"] and not re.search(rule["path"], path):
                    continue
                if rule["method"] and method and rule["method"] != method.upper():
                    continue
                if rule["count"] is not None and rule["fired"] >= rule["count"]:
                    continue
                rule["seen"] += 1
                if rule["seen"] <= rule["after"]:
                    continue
                if rule["rate"] < 1.0 and self._rng.random() >= rule["rate"]:
                    continue
                rule["fired"] += 1
                self.fired[kind] = self.fired.get(kind, 0) + 1
                return rule
        return None

    def snapshot(self) -> dict:
        with self._lock:
            return {"seed": self.seed, "rules": [dict(r) for r in self.rules], "fired": dict(self.fired)}
