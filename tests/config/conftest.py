"""A tiny real connector plugin ("acme") whose schema exercises patterns and secrets."""

from __future__ import annotations

from typing import Any

import pytest

from connectkit.hookspecs import hookimpl
from connectkit.models import Capabilities, ConnectorInfo
from connectkit.plugins import Hooks, load_plugins


class AcmeConnector:
    """Only describes itself and its config schema (enough for config validation)."""

    @hookimpl
    def connectkit_connector_info(self) -> ConnectorInfo:
        return ConnectorInfo(
            name="acme", title="Acme MIS", version="2.0", capabilities=Capabilities()
        )

    @hookimpl
    def connectkit_config_schema(self) -> dict[str, Any]:
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": False,
            "required": ["school_id", "token"],
            "properties": {
                "school_id": {"type": "string", "pattern": "^A[0-9]+$"},
                "token": {"$ref": "#/$defs/secret"},
                "per_page": {"type": "integer", "minimum": 1, "default": 100},
            },
            "$defs": {"secret": {"type": "string", "minLength": 8, "writeOnly": True}},
        }


@pytest.fixture
def acme_hooks(monkeypatch: pytest.MonkeyPatch) -> Hooks:
    """Hooks with only the acme connector (installed entry points disabled)."""
    monkeypatch.setenv("CONNECTKIT_PLUGINS", "")
    pm, report = load_plugins(extra=[("acme", AcmeConnector())])
    assert report.failed == {}
    return Hooks(pm)


GOOD = """
[store]
url = "sqlite:///data/ck.sqlite"
state_dir = "state"

[notifications.email]
host = "127.0.0.1"
port = 2525
sender = "connectkit@school.example"
username = "ck"
password = "${SMTP_PASSWORD}"

[[integrations]]
name = "Sample Academy"
[integrations.connector]
type = "acme"
school_id = "A1930499544"
token = "${ACME_TOKEN}"
[integrations.settings]
sites = ["Main Site"]
notify = ["email"]
notify_to = ["office@school.example"]
[integrations.mapping.students]
area = "Student Entrance"
[integrations.mapping.students.fields]
first_name = "first_name"
"emails.primary" = "email"
[integrations.mapping.students.groups]
"Year 7" = "Student"
"""
