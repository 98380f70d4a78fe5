"""How long to wait between status polls of an asynchronous job (Bulk API 2.0 jobs, Dotdigital imports).

A fixed interval costs up to one whole interval after the job has finished, once per job: at one
import per 50,000-contact chunk that idle time added up to seconds per sync, and a small delta job
that finishes in milliseconds waited the full interval. Starting short and doubling up to the
caller's interval finds quick jobs quickly and still polls long jobs at the caller's pace, for only a
few extra status calls per job.
"""

from __future__ import annotations

from collections.abc import Iterator

FIRST_POLL_SECONDS = 0.1


def poll_delays(maximum: float, first: float = FIRST_POLL_SECONDS) -> Iterator[float]:
    """first, 2×first, 4×first, ... capped at ``maximum`` (which also caps ``first``), forever."""
    delay = min(first, maximum)
    while True:
        yield delay
        delay = min(delay * 2, maximum)
