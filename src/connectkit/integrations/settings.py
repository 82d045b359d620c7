"""Integration settings (R1.3): their schema, validation, merging, and the sites they name."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import email_validator
import phonenumbers
from sqlalchemy import Connection

from connectkit import directory
from connectkit.config.schema import core_schema, with_defaults
from connectkit.config.validate import schema_issues
from connectkit.errors import ConfigValidationError


def settings_schema() -> dict[str, Any]:
    """The JSON Schema of ``[integrations.settings]``: the one in the core config schema,
    so the CLI, the API and the config file accept exactly the same settings."""
    root = core_schema()
    return {**root["$defs"]["settings"], "$defs": root.get("$defs", {})}


def _merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` laid over it; nested tables merge key by key."""
    merged = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _value_issues(settings: Mapping[str, Any]) -> list[str]:
    """What the schema cannot say: a region phonenumbers knows, real email addresses."""
    issues: list[str] = []
    region = settings.get("phone_region")
    if isinstance(region, str) and region not in phonenumbers.SUPPORTED_REGIONS:
        issues.append(f"settings.phone_region: {region!r} is not a known region code")
    recipients = settings.get("notify_to")
    for i, address in enumerate(recipients if isinstance(recipients, list) else []):
        try:
            email_validator.validate_email(str(address), check_deliverability=False)
        except email_validator.EmailNotValidError as exc:
            issues.append(f"settings.notify_to[{i}]: {address!r} is not an email address ({exc})")
    return issues


def validate_settings(settings: Mapping[str, Any], *, source: str = "settings") -> dict[str, Any]:
    """Return ``settings`` completed with defaults, or raise ConfigValidationError listing
    every problem with its key path (``settings.deletion: 'purge' is not one of ...``)."""
    schema = settings_schema()
    plain = copy.deepcopy(dict(settings))
    issues = schema_issues(plain, schema, ("settings",)) + _value_issues(plain)
    if issues:
        raise ConfigValidationError(issues, source=source)
    return dict(with_defaults(plain, schema))


def ensure_sites(conn: Connection, names: Sequence[str]) -> None:
    """Create the directory sites an integration names that do not exist yet."""
    directory.ensure_sites(conn, names)
