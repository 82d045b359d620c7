"""Key paths: how a location inside a config document is written in messages.

A path is a tuple of keys (str) and list indexes (int). It is shown as
``integrations[0].connector.school_id``; a key that is not a plain identifier is quoted,
e.g. ``integrations[0].mapping.students.fields["emails.primary"]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

Path = tuple[str | int, ...]
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(parts: Iterable[str | int]) -> str:
    """Render ``parts`` as a dotted key path; the empty path is ``(top level)``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "(top level)"


def join_display(prefix: str, parts: Path) -> str:
    """``format_path(parts)`` placed under an already rendered ``prefix``."""
    if not prefix:
        return format_path(parts)
    if not parts:
        return prefix
    rel = format_path(parts)
    return prefix + rel if rel.startswith("[") else f"{prefix}.{rel}"


def sort_key(parts: Iterable[str | int]) -> tuple[tuple[int, int, str], ...]:
    """A key ordering paths naturally (``[2]`` before ``[10]``)."""
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in parts)


def starts_with(path: Path, prefix: Path) -> bool:
    """True when ``path`` is ``prefix`` or lies below it."""
    return path[: len(prefix)] == prefix
