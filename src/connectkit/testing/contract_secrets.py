"""Secret handling for the contract kit: find, wrap, reveal and detect config secrets.

The kit treats a config value as secret when it is a :class:`~connectkit.secrets.Secret`
or sits under a ``writeOnly`` schema property; such strings are wrapped in ``Secret`` before
the connector sees them (as the core does). Detection reports *which* secret leaked (a
number), never its value.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from connectkit.context import ConnectorContext
from connectkit.secrets import Secret

SECRET_NAME = re.compile(
    r"(?i)(token|secret|password|passwd|passphrase|api_?key|private_?key|credential)"
)


def secret_properties(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, bool]]:
    """(dotted property path, is writeOnly) for every property of ``schema``, recursively."""
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, Mapping):
            yield f"{path}{name}", bool(sub.get("writeOnly"))
            yield from secret_properties(sub, f"{path}{name}.")


def looks_secret(name: str) -> bool:
    """True for property names that usually hold a credential (``token``, ``api_key`` …)."""
    leaf = name.rsplit(".", 1)[-1]
    return bool(SECRET_NAME.search(leaf)) and not leaf.lower().endswith(("_url", "_uri", "_env"))


def wrap_secrets(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` whose ``writeOnly`` string values are :class:`Secret`."""
    properties = schema.get("properties") or {}
    wrapped: dict[str, Any] = {}
    for key, value in config.items():
        sub = properties.get(key)
        if isinstance(sub, Mapping) and sub.get("writeOnly") and isinstance(value, str):
            wrapped[key] = Secret(value)
        elif isinstance(sub, Mapping) and isinstance(value, Mapping):
            wrapped[key] = wrap_secrets(value, sub)
        else:
            wrapped[key] = value
    return wrapped


def secret_values(config: Mapping[str, Any], schema: Mapping[str, Any]) -> set[str]:
    """The clear values of every secret in ``config`` (Secrets and writeOnly strings)."""
    found: set[str] = set()
    for value in wrap_secrets(config, schema).values():
        if isinstance(value, Secret):
            found.add(value.reveal())
        elif isinstance(value, Mapping):
            found |= secret_values(value, {})
    return {value for value in found if value}


class SecretValues(frozenset[str]):
    """A set of clear secret values whose repr never shows them (pytest prints arguments)."""

    def __repr__(self) -> str:
        return f"<{len(self)} secret value(s)>"


def reveal_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with every :class:`Secret` revealed (for JSON Schema validation only)."""
    return {
        key: value.reveal()
        if isinstance(value, Secret)
        else reveal_config(value)
        if isinstance(value, Mapping)
        else value
        for key, value in config.items()
    }


def exception_text(exc: BaseException) -> str:
    """Everything an exception could show: traceback with causes, reprs, args, attributes."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(repr(current))
        parts.extend(repr(arg) for arg in current.args)
        parts.extend(repr(value) for value in vars(current).values())
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def leaked(text: str, secrets: Iterable[str]) -> list[int]:
    """1-based numbers of the ``secrets`` found in ``text`` (never the values)."""
    return [n for n, value in enumerate(sorted(secrets), start=1) if value in text]


def make_context(
    tmp_path: Path,
    config: Mapping[str, Any],
    schema: Mapping[str, Any],
    transport: httpx.BaseTransport | None,
    integration: str = "contract",
) -> ConnectorContext:
    """A context as the core would build it: secrets wrapped, a private state folder."""
    state_dir = tmp_path / f"{integration}-state"
    state_dir.mkdir(parents=True, exist_ok=True)
    return ConnectorContext(
        integration=integration,
        config=wrap_secrets(config, schema),
        state_dir=state_dir,
        transport=transport,
    )
