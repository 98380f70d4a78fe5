"""JSON for the import hot path: msgspec encodes and decodes 50,000-contact bodies several times faster
than the json module, which left the emulator, not the pipeline, as the slowest part of a benchmark."""

from __future__ import annotations

import json

import msgspec

_encoder = msgspec.json.Encoder()


def dumps(value) -> str:
    return _encoder.encode(value).decode()


def loads(data: bytes | str):
    """msgspec first; the json module for what only it accepts (NaN, Infinity), so nothing parses differently."""
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return json.loads(data)
