"""Integrations: their status machine, health, and lifecycle actions (R1.1-R1.4, R4.6, R7).

Status machine (R1.4), every transition stored as an ``integration_events`` row
(``kind="status"``) with its cause and actor::

    Pending ──▶ Ready ──▶ Draft ──▶ Active ◀──▶ Deactivated
    (access      (first      (first sync
     requested)   sync        confirmed)
                  started)

A transition to the status the integration already has is a no-op (no event), so the
engine may call it idempotently when a run resumes; any other move not drawn above
raises :class:`~connectkit.errors.StateError`. Health (``ok`` / ``on_hold`` /
``failing``) is recorded the same way with ``kind="health"``.

Every function takes an open SQLAlchemy ``Connection``; the caller owns the transaction.
Connector secrets are stored only as ``${VAR}`` references (R9.1): a clear value for a
``writeOnly`` property is refused before anything is saved.

The package is split by job: :mod:`.status` (the values), :mod:`.rows` (reading),
:mod:`.event_log`, :mod:`.transitions`, :mod:`.settings`, :mod:`.connector_config`,
:mod:`.environment`, and the actions :mod:`.creation`, :mod:`.access`, :mod:`.editing`,
:mod:`.activation`, :mod:`.removal`, :mod:`.apply`. Everything public is re-exported here.
"""

from __future__ import annotations

import logging

from connectkit.integrations.access import check_access, check_all_pending, request_access
from connectkit.integrations.activation import activate, deactivate
from connectkit.integrations.apply import Applied, apply_one
from connectkit.integrations.clock import now
from connectkit.integrations.connector_config import (
    check_stored_config,
    resolve_config,
    validate_connector_config,
)
from connectkit.integrations.creation import create
from connectkit.integrations.editing import update_connector_config, update_settings
from connectkit.integrations.environment import Environment
from connectkit.integrations.event_log import Event, events, record_event
from connectkit.integrations.removal import Removal, remove, run_in_progress
from connectkit.integrations.rows import IntegrationRow, get, list_all
from connectkit.integrations.settings import ensure_sites, settings_schema, validate_settings
from connectkit.integrations.status import ALLOWED, Health, Status
from connectkit.integrations.transitions import set_health, transition

log = logging.getLogger(__name__)

__all__ = [
    "ALLOWED",
    "Applied",
    "Environment",
    "Event",
    "Health",
    "IntegrationRow",
    "Removal",
    "Status",
    "activate",
    "apply_one",
    "check_access",
    "check_all_pending",
    "check_stored_config",
    "create",
    "deactivate",
    "ensure_sites",
    "events",
    "get",
    "list_all",
    "log",
    "now",
    "record_event",
    "remove",
    "request_access",
    "resolve_config",
    "run_in_progress",
    "set_health",
    "settings_schema",
    "transition",
    "update_connector_config",
    "update_settings",
    "validate_connector_config",
    "validate_settings",
]
