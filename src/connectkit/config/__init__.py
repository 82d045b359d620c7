"""Deployment configuration: one TOML file, validated against JSON Schema.

Public API: :func:`load_config`, :func:`validate_document`, :func:`resolve_env` and the
typed results :class:`Config`, :class:`StoreConfig`, :class:`IntegrationConfig`,
:class:`NotificationConfig`, :class:`EmailConfig`. See ``docs/configuration.md``.
"""

from __future__ import annotations

from connectkit.config.env import resolve_env
from connectkit.config.loader import (
    build_config,
    default_config,
    enabled_plugins,
    load_config,
    read_document,
)
from connectkit.config.model import (
    Config,
    EmailConfig,
    IntegrationConfig,
    NotificationConfig,
    StoreConfig,
)
from connectkit.config.schema import core_schema
from connectkit.config.validate import validate_document

__all__ = [
    "Config",
    "EmailConfig",
    "IntegrationConfig",
    "NotificationConfig",
    "StoreConfig",
    "build_config",
    "core_schema",
    "default_config",
    "enabled_plugins",
    "load_config",
    "read_document",
    "resolve_env",
    "validate_document",
]
