"""Injected faults and the tiered rate limiter: both deterministic, so a test can rely on them.

Faults are rules with a remaining count, set at start-up (``--faults``) or at run time
(``POST /__sandbox__/faults``). Per-contact failures pick contacts by a hash of the seed and the
identifier, never by a random draw, so the same data fails the same way on every run.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time

FAULT_KINDS = ("http", "import_status", "slow_import", "contact_failures")
IMPORT_FAILURE_STATUSES = ("RejectedByWatchdog", "Failed", "ExceedsAllowedContactLimit", "InvalidFileFormat",
                           "Unknown")


class Faults:
    def __init__(self, seed: int = 0):
        self.seed = seed
        self.rules: list[dict] = []
        self.lock = threading.Lock()

    def set(self, rules: list[dict], replace: bool = True) -> list[dict]:
        checked = [self._check(r) for r in rules]
        with self.lock:
            if replace:
                self.rules = checked
            else:
                self.rules.extend(checked)
            return list(self.rules)

    @staticmethod
    def _check(rule: dict) -> dict:
        if not isinstance(rule, dict) or rule.get("kind") not in FAULT_KINDS:
            raise ValueError(f"fault rule needs kind in {FAULT_KINDS}: {rule!r}")
        rule = dict(rule)
        rule.setdefault("count", 1)
        if rule["kind"] == "http":
            rule.setdefault("status", 503)
            rule["_re"] = re.compile(rule.get("path", ".*"))
        if rule["kind"] == "import_status" and rule.get("status") not in IMPORT_FAILURE_STATUSES:
            raise ValueError(f"import_status fault needs status in {IMPORT_FAILURE_STATUSES}")
        if rule["kind"] == "contact_failures":
            rule.setdefault("rate", 0.1)
            rule.setdefault("failure_code", "invalidContact")
            rule.setdefault("description", "The contact could not be imported")
        return rule

    def public(self) -> list[dict]:
        with self.lock:
            return [{k: v for k, v in r.items() if not k.startswith("_")} for r in self.rules]

    def _take(self, kind: str, predicate) -> dict | None:
        with self.lock:
            for rule in self.rules:
                if rule["kind"] == kind and predicate(rule) and (rule["count"] is None or rule["count"] > 0):
                    if rule["count"] is not None:
                        rule["count"] -= 1
                    return dict(rule)
        return None

    def take_http(self, method: str, path: str) -> dict | None:
        return self._take("http", lambda r: r["_re"].search(path) and r.get("method", method).upper() == method)

    def take_import(self, kind: str, generation: str) -> dict | None:
        return self._take(kind, lambda r: r.get("generation", generation) == generation)

    def fails(self, rule: dict, identifier: str) -> bool:
        digest = hashlib.sha256(f"{self.seed}:{identifier.lower()}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < float(rule["rate"])


# Which tier each operation belongs to (Dotdigital lists the tier on each call's page); bulk writes
# are Low, list reads Medium, single reads High, polling and account calls Unlimited.
TIER_RULES = [
    (r"^(PUT /contacts/v3/import|POST /v2/.*import.*|POST /contacts/v3/delete)$", "Low"),
    (r"^POST /v2/programs/enrolments$", "Low"),
    (r"^GET /(v2/contacts/import|contacts/v3/import|v2/programs/enrolments|v2/account-info)", "Unlimited"),
    (r"^GET /v2/(campaigns|address-books/\{[^}]+\}/contacts|contacts/(suppressed|unsubscribed)-since)", "Medium"),
    (r"^GET ", "High"),
    (r".*", "Medium"),
]


def tier_of(method: str, template: str) -> str:
    key = f"{method} {template}"
    for pattern, tier in TIER_RULES:
        if re.search(pattern, key):
            return tier
    return "Medium"


class RateLimiter:
    """Fixed windows per tier. ``reset_format`` is ``seconds`` (Dotdigital's SDK) or ``epoch``."""

    def __init__(self, config: dict | None = None):
        self.lock = threading.Lock()
        self.configure(config or {})

    def configure(self, config: dict) -> None:
        with self.lock:
            self.window = float(config.get("window_seconds", 60))
            self.reset_format = config.get("reset_format", "seconds")
            self.limits = {k: int(v) for k, v in (config.get("tiers") or {}).items()}
            self.counts: dict[str, tuple[int, int]] = {}

    def public(self) -> dict:
        return {"window_seconds": self.window, "reset_format": self.reset_format, "tiers": self.limits}

    def check(self, tier: str) -> tuple[bool, dict]:
        limit = self.limits.get(tier)
        if not limit:
            return True, {}
        now = time.time()
        with self.lock:
            window_id = int(now // self.window)
            seen_window, used = self.counts.get(tier, (window_id, 0))
            if seen_window != window_id:
                used = 0
            used += 1
            self.counts[tier] = (window_id, used)
        window_end = (window_id + 1) * self.window
        reset = max(1, math.ceil(window_end - now)) if self.reset_format == "seconds" else int(window_end)
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(0, limit - used)),
                   "X-RateLimit-Reset": str(reset), "X-RateLimit-Scope": f"{tier.lower()}CallRate"}
        return used <= limit, headers
