"""Salesforce record ids: 3-char key prefix, 12-char base-62 body, 3-char case-safe checksum suffix.

The suffix is the documented case-insensitive checksum (each 5-char block of the 15-char id gives one
character: bit i set when char i is an upper-case letter), so ids round-trip through 15/18-char forms
and through tools that lower-case them, as real ids do.
"""

from __future__ import annotations

import re

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ID_RE = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
POD = "4x0"  # instance + reserved characters, constant for this emulated org
_BLOCK_SUFFIX: dict[str, str] = {}


def _block_suffix(block: str) -> str:
    cached = _BLOCK_SUFFIX.get(block)
    if cached is None:
        bits = sum(1 << i for i, ch in enumerate(block) if "A" <= ch <= "Z")
        cached = SUFFIX_CHARS[bits]
        if len(_BLOCK_SUFFIX) < 500_000:
            _BLOCK_SUFFIX[block] = cached
    return cached


def checksum(id15: str) -> str:
    return _block_suffix(id15[0:5]) + _block_suffix(id15[5:10]) + _block_suffix(id15[10:15])


def to18(value: str) -> str:
    return value if len(value) == 18 else value + checksum(value)


def is_id(value: object) -> bool:
    return isinstance(value, str) and bool(ID_RE.match(value))


def _base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, rem = divmod(n, 62)
        chars.append(BASE62[rem])
    return "".join(reversed(chars))


def make_id(prefix: str, sequence: int) -> str:
    id15 = prefix + POD + _base62(sequence, 9)
    return id15 + checksum(id15)


def _upper_bits(text: str) -> int:
    return sum(1 << i for i, ch in enumerate(text) if "A" <= ch <= "Z")


_TAILS = [(BASE62[a] + BASE62[b], _upper_bits(BASE62[a] + BASE62[b]) << 3) for a in range(62) for b in range(62)]


def make_ids(prefix: str, start: int, count: int) -> list[str]:
    """Many consecutive ids (same as ``make_id`` for each sequence number), without per-id block scans:
    the last block's checksum bits are those of its first 3 chars OR'ed with a precomputed 2-char tail."""
    head = prefix + POD
    head_suffix = _block_suffix(head[0:5])
    out: list[str] = []
    append = out.append
    seq = start
    end = start + count
    while seq < end:
        upper, low = divmod(seq, 62 ** 5)
        mid = _base62(upper, 4)
        low_hi, low_lo = divmod(low, 62 * 62)
        stop = min(end - seq, 62 * 62 - low_lo)
        prefix3 = _base62(low_hi, 3)
        p3_bits = _upper_bits(prefix3)
        base = head + mid + prefix3
        middle = head_suffix + _block_suffix(head[5:6] + mid)
        for tail, tail_bits in _TAILS[low_lo:low_lo + stop]:
            append(base + tail + middle + SUFFIX_CHARS[p3_bits | tail_bits])
        seq += stop
    return out
