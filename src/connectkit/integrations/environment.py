"""What lifecycle actions need from the deployment, and the connector contexts it builds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from connectkit.context import ConnectorContext
from connectkit.integrations.connector_config import (
    check_stored_config,
    resolve_config,
    validate_connector_config,
)
from connectkit.integrations.rows import IntegrationRow
from connectkit.integrations.status import Status
from connectkit.plugins.facade import Connector, Hooks

if TYPE_CHECKING:
    from connectkit.app import App


@dataclass(frozen=True)
class Environment:
    """What lifecycle actions need from the deployment: plugins, state folder, env, transport."""

    hooks: Hooks
    state_root: Path
    environ: Mapping[str, str] | None = None
    transport: httpx.BaseTransport | None = None

    @classmethod
    def from_app(cls, app: App) -> Environment:
        """The environment of a running :class:`~connectkit.app.App` (process env)."""
        return cls(app.hooks, app.state_dir, None, app.transport)

    def connector(self, name: str) -> Connector:
        return self.hooks.connector(name)

    def context(
        self, connector: Connector, name: str, config: Mapping[str, Any], *, partial: bool = False
    ) -> ConnectorContext:
        """A context with ``config`` resolved (secrets as Secret) and schema-validated."""
        schema = connector.config_schema()
        check_stored_config(config, schema, f"integration {name!r} connector")
        resolved = resolve_config(config, schema, self.environ)
        validate_connector_config(
            connector, resolved, f"integration {name!r} connector", partial=partial
        )
        from connectkit.app import state_folder_name

        state_dir = self.state_root / state_folder_name(name)
        state_dir.mkdir(parents=True, exist_ok=True)
        return ConnectorContext(name, resolved, state_dir, self.transport)

    def context_for(self, row: IntegrationRow) -> ConnectorContext:
        """The context a stored integration's connector operations run with."""
        partial = row.status == Status.PENDING
        return self.context(self.connector(row.connector), row.name, row.connector_config,
                            partial=partial)
