"""Typed, frozen results of loading a config file.

Secret values are :class:`connectkit.secrets.Secret` objects, so ``repr()`` and ``str()``
of any of these show ``***`` instead. Dict-valued fields (``settings``, ``mapping``,
``connector``) carry every default filled in and must be treated as read-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from connectkit.errors import ConfigError
from connectkit.secrets import Secret


def safe_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for display and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL we can parse: show nothing of it
        return "<unparseable url>"


@dataclass(frozen=True)
class StoreConfig:
    """``[store]``: the SQLAlchemy ``url`` and the connector ``state_dir`` (absolute)."""

    url: str = field(repr=False)
    state_dir: Path

    def __repr__(self) -> str:
        return f"StoreConfig(url={safe_url(self.url)!r}, state_dir={str(self.state_dir)!r})"


@dataclass(frozen=True)
class EmailConfig:
    """``[notifications.email]``: an SMTP relay; ``password`` is a Secret."""

    host: str
    sender: str
    port: int = 25
    username: str | None = None
    password: Secret | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0


@dataclass(frozen=True)
class NotificationConfig:
    """``[notifications]``: the built-in email channel and plugin channels' sections."""

    email: EmailConfig | None = None
    channels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Sections of channels contributed by plugins, by channel name (secrets unwrapped
    only where the plugin's schema is known; treat every value as sensitive)."""

    def names(self) -> frozenset[str]:
        """Every channel name configured (``email`` included when present)."""
        return frozenset(self.channels) | ({"email"} if self.email else set())


@dataclass(frozen=True)
class IntegrationConfig:
    """One ``[[integrations]]`` entry.

    - ``connector``: the connector section without ``type``, validated against the
      connector's schema, defaults filled, secrets as :class:`Secret`.
    - ``connector_refs``: the same section as written in the file (secrets still
      ``${VAR}`` references): the only form that may be stored in the database.
    - ``settings`` / ``mapping``: the ``[integrations.settings]`` / ``[integrations.mapping]``
      tables with defaults filled in.
    """

    name: str
    connector_type: str
    connector: Mapping[str, Any]
    connector_refs: Mapping[str, Any]
    settings: Mapping[str, Any]
    mapping: Mapping[str, Any]


@dataclass(frozen=True)
class SyncConfig:
    """``[sync]``: ``import_worker`` resolved (``auto`` became True or False)."""

    import_worker: bool = False


@dataclass(frozen=True)
class Config:
    """A whole deployment config. ``source`` is the file it came from (None: defaults)."""

    store: StoreConfig
    plugins_enabled: tuple[str, ...] | None = None
    notifications: NotificationConfig = field(default_factory=NotificationConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    integrations: tuple[IntegrationConfig, ...] = ()
    source: Path | None = None

    def integration(self, name: str) -> IntegrationConfig:
        """The integration called ``name``; ConfigError naming the configured ones if absent."""
        for item in self.integrations:
            if item.name == name:
                return item
        known = ", ".join(repr(i.name) for i in self.integrations) or "none"
        raise ConfigError(f"no integration named {name!r} in the config (configured: {known})")
