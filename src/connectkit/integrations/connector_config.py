"""Connector config and secrets (R9.1): ``${VAR}`` references only, resolved on use.

A clear value for a ``writeOnly`` property is refused before anything is saved.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator

from connectkit.errors import ConfigValidationError, SecretMissingError
from connectkit.plugins.facade import Connector
from connectkit.secrets import Secret

_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_ANY_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _secret_keys(schema: Mapping[str, Any], prefix: str = "") -> set[str]:
    """Dotted paths of every ``writeOnly`` property in ``schema``."""
    found: set[str] = set()
    for key, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        path = f"{prefix}{key}"
        if sub.get("writeOnly"):
            found.add(path)
        found |= _secret_keys(sub, f"{path}.")
    return found


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    else:
        yield path, value


def check_stored_config(config: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> None:
    """Refuse a connector config that would store a secret in clear.

    Every ``writeOnly`` property must be a whole ``${VAR}`` reference; a Secret object or
    a clear string is refused (ConfigValidationError naming the key, never the value).
    """
    secret_paths = _secret_keys(schema)
    issues = []
    for path, value in _walk(config):
        if isinstance(value, Secret) or (
            path in secret_paths and not (isinstance(value, str) and _REF.match(value))
        ):
            issues.append(
                f"{where}.{path}: a secret must be given as an ${{ENV_VAR}} reference; "
                "connectkit never stores secrets in clear"
            )
    if issues:
        raise ConfigValidationError(issues, source=where)


def resolve_config(
    config: Mapping[str, Any], schema: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Replace ``${VAR}`` references by environment values; writeOnly ones become Secret.

    Raises SecretMissingError naming the variable (and key) when it is not set.
    """
    env = os.environ if environ is None else environ
    secret_paths = _secret_keys(schema)

    def resolve(value: Any, path: str) -> Any:
        if isinstance(value, Mapping):
            return {k: resolve(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v, path) for v in value]
        if not isinstance(value, str) or "${" not in value:
            return value

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise SecretMissingError(f"environment variable {name} (for {path}) is not set")
            return env[name]

        text = _ANY_REF.sub(substitute, value)
        return Secret(text) if path in secret_paths else text

    return {key: resolve(value, str(key)) for key, value in config.items()}


def _plain(value: Any) -> Any:
    """Secrets revealed, for JSON Schema validation only."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def validate_connector_config(
    connector: Connector,
    resolved: Mapping[str, Any],
    where: str,
    *,
    partial: bool = False,
) -> None:
    """Validate a resolved connector config against the plugin's JSON Schema, every error
    at once with its key path. ``partial`` ignores missing required keys (request access)."""
    validator = Draft202012Validator(connector.config_schema())
    issues = []
    for error in sorted(validator.iter_errors(_plain(resolved)), key=lambda e: list(e.path)):
        if partial and error.validator == "required":
            continue
        path = ".".join(str(part) for part in error.absolute_path)
        issues.append(f"{where}{'.' + path if path else ''}: {error.message}")
    if issues:
        raise ConfigValidationError(issues, source=where)
