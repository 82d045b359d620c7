"""The Wonde connector's config section: its JSON Schema and a typed view of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectkit.errors import ConfigError
from connectkit.secrets import Secret

DEFAULT_BASE_URL = "https://api.wonde.com/v1.0"

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://connectkit.dev/schemas/connector/wonde.json",
    "title": "Wonde connector",
    "type": "object",
    "additionalProperties": False,
    "required": ["school_id", "token"],
    "properties": {
        "school_id": {
            "type": "string",
            "pattern": "^[A-Z][0-9]{4,14}$",
            "description": "Wonde school id, e.g. A1930499544.",
        },
        "token": {
            "type": "string",
            "minLength": 1,
            "writeOnly": True,
            "description": "Wonde API access token; use ${WONDE_TOKEN}.",
        },
        "auth_scheme": {"enum": ["bearer", "basic"], "default": "bearer"},
        "base_url": {
            "type": "string",
            "pattern": "^https?://",
            "default": DEFAULT_BASE_URL,
            "description": "API root including /v1.0 (override for the emulator or tests).",
        },
        "follow_region": {
            "type": "boolean",
            "default": True,
            "description": "Send school calls to the school's region.domain.",
        },
        "per_page": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 200},
        "photo_per_page": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
        "include_leavers": {"type": "boolean", "default": False},
        "include_pre_admissions": {"type": "boolean", "default": False},
        "current_staff_only": {"type": "boolean", "default": True},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "default": 60},
        "connect_timeout": {"type": "number", "exclusiveMinimum": 0, "default": 10},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
        "max_retry_seconds": {"type": "number", "minimum": 0, "default": 120},
        "retry_base_delay": {
            "type": "number",
            "minimum": 0,
            "default": 1.0,
            "description": "First backoff ceiling in seconds (doubles per attempt, full jitter).",
        },
        "changed_since_overlap_minutes": {"type": "integer", "minimum": 0, "default": 10},
        "writeback_batch_size": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
        "writeback_employee_id": {
            "type": "string",
            "description": "Wonde employee id recorded as taking the marks (optional).",
        },
        "photo_max_bytes": {"type": "integer", "minimum": 1024, "default": 5_000_000},
    },
}


@dataclass(frozen=True)
class WondeConfig:
    """A validated config section, with defaults filled in and the token wrapped."""

    school_id: str
    token: Secret
    auth_scheme: str = "bearer"
    base_url: str = DEFAULT_BASE_URL
    follow_region: bool = True
    per_page: int = 200
    photo_per_page: int = 50
    include_leavers: bool = False
    include_pre_admissions: bool = False
    current_staff_only: bool = True
    timeout: float = 60.0
    connect_timeout: float = 10.0
    max_attempts: int = 5
    max_retry_seconds: float = 120.0
    retry_base_delay: float = 1.0
    changed_since_overlap_minutes: int = 10
    writeback_batch_size: int = 100
    writeback_employee_id: str | None = None
    photo_max_bytes: int = 5_000_000

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> WondeConfig:
        """Build from ``ctx.config``; the token may be a Secret or a plain string."""
        values = dict(raw)
        values.pop("type", None)
        token = values.get("token")
        if isinstance(token, str):
            values["token"] = Secret(token)
        elif not isinstance(token, Secret):
            raise ConfigError("wonde connector: 'token' is required")
        if not isinstance(values.get("school_id"), str):
            raise ConfigError("wonde connector: 'school_id' is required")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"wonde connector: unknown config key(s) {', '.join(unknown)}")
        values["base_url"] = str(values.get("base_url", DEFAULT_BASE_URL)).rstrip("/")
        return cls(**values)
