"""``${VAR}`` substitution from the environment, and wrapping of secret values.

Any string in the config may contain ``${VAR}``; it is replaced by the environment
variable ``VAR`` (``$${VAR}`` writes a literal ``${VAR}``). Values at ``writeOnly``
positions of the governing schema become :class:`connectkit.secrets.Secret`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from connectkit.config.paths import Path, format_path, join_display
from connectkit.config.schema import Schema, replace_at, write_only_paths
from connectkit.errors import SecretMissingError
from connectkit.secrets import Secret

_REF = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}")
ONLY_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")

Missing = list[tuple[Path, str]]


def substitute(value: Any, env: Mapping[str, str], missing: Missing, path: Path = ()) -> Any:
    """Replace ``${VAR}`` everywhere in ``value``; unset variables are appended to
    ``missing`` as ``(path, VAR)`` and their text is left as written."""
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            escaped, name = match.group(1), match.group(2)
            if escaped:
                return "${" + name + "}"
            if name not in env:
                missing.append((path, name))
                return match.group(0)
            return env[name]

        return _REF.sub(one, value)
    if isinstance(value, dict):
        return {k: substitute(v, env, missing, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, env, missing, (*path, i)) for i, v in enumerate(value)]
    return value


def missing_messages(missing: Missing, prefix: Path = ()) -> list[str]:
    """One line per unset variable: ``key.path: environment variable VAR is not set``."""
    return [
        f"{format_path((*prefix, *path))}: environment variable {name} is not set"
        for path, name in missing
    ]


def wrap_secrets(value: Any, paths: list[Path]) -> Any:
    """A copy of ``value`` with the strings at ``paths`` wrapped in :class:`Secret`."""
    for path in paths:
        current: Any = value
        for part in path:
            current = current[part]
        if isinstance(current, str):
            value = replace_at(value, path, Secret(current))
    return value


def resolve_env(
    value: Any, schema: Schema, path: str = "", env: Mapping[str, str] | None = None
) -> Any:
    """Substitute ``${VAR}`` in ``value`` and wrap its ``writeOnly`` values as Secrets.

    ``schema`` governs ``value``; ``path`` is the display path of ``value`` used in
    messages (e.g. ``integrations[0].connector``). Raises :class:`SecretMissingError`
    naming the key path of every variable that is not set.
    """
    missing: Missing = []
    resolved = substitute(value, os.environ if env is None else env, missing)
    if missing:
        lines = [
            f"{join_display(path, where)}: environment variable {name} is not set"
            for where, name in missing
        ]
        raise SecretMissingError("; ".join(lines))
    return wrap_secrets(resolved, write_only_paths(resolved, schema))
