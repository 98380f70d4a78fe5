"""How long to wait between status polls of an asynchronous job (Bulk API 2.0 jobs, Dotdigital imports).

A fixed interval costs up to one whole interval after the job has finished, once per job: at one
import per 50,000-contact chunk that idle time added up to seconds per sync, and a small delta job
that finishes in milliseconds waited the full interval. So polls start short and double, but stay at
most ``floor`` apart until a quarter of the time waited so far is longer: a job that takes a few
seconds is seen within half a second of finishing, and a long job is still polled at the caller's pace
(``maximum``), for only a few extra status calls per job. Status polls are in Dotdigital's unlimited
rate-limit tier; a Salesforce Bulk poll costs one API call, which the chunk sizes keep rare.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

FIRST_POLL_SECONDS = 0.1
FLOOR_SECONDS = 0.5  # the longest gap while a job is young
SHARE_OF_ELAPSED = 0.25  # beyond the floor, a gap is at most this share of the time waited so far


def poll_delays(maximum: float, first: float = FIRST_POLL_SECONDS, floor: float = FLOOR_SECONDS,
                clock=time.monotonic) -> Iterator[float]:
    """first, 2×first, 4×first, ... but no more than max(floor, elapsed/4), and never over ``maximum``."""
    started = clock()
    delay = min(first, maximum)
    while True:
        yield delay
        elapsed = clock() - started
        delay = min(maximum, delay * 2, max(floor, elapsed * SHARE_OF_ELAPSED))
