"""Loading mapping YAML files into SyncMapping models, with errors a user can act on.

Every error names the file, the key path inside it (``fields[3].target``) and the reason, like a
compiler message, because the person reading it is editing that file. DAG files call
``load_mappings`` at parse time, so this stays cheap: yaml + pydantic only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sfdd.mapping.model import SyncMapping

MAPPING_SUFFIXES = (".yaml", ".yml")


class MappingError(ValueError):
    """A mapping file cannot be used; ``problems`` lists every ``file: key: reason`` line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _display(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when possible."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _error_lines(where: str, exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling against docs/mappings.md)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        elif msg.startswith("Assertion failed, "):
            msg = msg[len("Assertion failed, ") :]
        key = _loc_to_path(loc)
        # Errors raised by a section's own cross-field check carry their key in the message.
        if (
            key
            and ": " in msg
            and not msg.startswith("'")
            and msg.split(": ", 1)[0].replace(".", "").isidentifier()
        ):
            key = f"{key}.{msg.split(': ', 1)[0]}"
            msg = msg.split(": ", 1)[1]
        elif not key and ": " in msg:
            key, msg = msg.split(": ", 1)
        lines.append(f"{where}: {key}: {msg}" if key else f"{where}: {msg}")
    return lines


def parse_mapping(data: Any, where: str = "<mapping>") -> SyncMapping:
    """Validate already-parsed YAML data (a dict) into a SyncMapping."""
    if not isinstance(data, dict):
        raise MappingError(
            [f"{where}: the file must hold a YAML mapping (key: value), not {type(data).__name__}"]
        )
    try:
        return SyncMapping.model_validate(data)
    except ValidationError as exc:
        raise MappingError(_error_lines(where, exc)) from None


def load_mapping(path: str | os.PathLike[str]) -> SyncMapping:
    """Load and validate one mapping file."""
    path = Path(path)
    where = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError([f"{where}: cannot read file ({exc.strerror})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise MappingError([f"{where}: {at}invalid YAML ({reason})"]) from None
    return parse_mapping(data, where)


def load_mappings(folder: str | os.PathLike[str]) -> dict[str, SyncMapping]:
    """Load every *.yaml/*.yml file of a folder; all problems of all files are raised together."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MappingError([f"{_display(folder)}: mapping folder not found"])
    mappings: dict[str, SyncMapping] = {}
    origin: dict[str, str] = {}
    problems: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix in MAPPING_SUFFIXES and p.is_file()):
        try:
            mapping = load_mapping(path)
        except MappingError as exc:
            problems.extend(exc.problems)
            continue
        if mapping.name in mappings:
            problems.append(
                f"{_display(path)}: name: {mapping.name!r} is already used by {origin[mapping.name]}"
            )
            continue
        mappings[mapping.name] = mapping
        origin[mapping.name] = _display(path)
    problems.extend(_shared_datafield_problems(mappings, origin))
    if problems:
        raise MappingError(problems)
    return mappings


def _shared_datafield_problems(mappings: dict[str, SyncMapping], origin: dict[str, str]) -> list[str]:
    """Two syncs may write the same data field (FIRSTNAME), but only with the same type."""
    first: dict[str, tuple[str, str, str]] = {}
    problems = []
    for name, mapping in mappings.items():
        for where, field, dd_type in mapping.datafield_specs():
            seen = first.setdefault(field.upper(), (dd_type, name, where))
            if seen[0] != dd_type:
                problems.append(
                    f"{origin[name]}: {where}: data field {field!r} is {dd_type} here but {seen[0]} in "
                    f"{origin[seen[1]]} ({seen[2]})"
                )
    return problems
