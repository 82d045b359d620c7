"""The application object: config, plugins, store engine, and connector contexts.

:meth:`App.from_config` is how every entry point (CLI, HTTP API, workers, tests) starts
connectkit. The config file is found in this order: the ``path`` argument, the
``CONNECTKIT_CONFIG`` environment variable, ``./connectkit.toml``; without any, the
built-in defaults apply (one SQLite file at ``var/connectkit.sqlite``). Plugins load
with the file's ``plugins.enabled`` allow-list (``CONNECTKIT_PLUGINS`` overrides it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from connectkit.config import Config, build_config, enabled_plugins, read_document
from connectkit.context import ConnectorContext
from connectkit.plugins import Hooks, LoadReport, load_plugins
from connectkit.secrets import install_log_redaction
from connectkit.store.engine import make_engine

CONFIG_ENV = "CONNECTKIT_CONFIG"
DEFAULT_FILE = "connectkit.toml"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def find_config(path: Path | None = None) -> Path | None:
    """The config file to use: ``path``, else ``$CONNECTKIT_CONFIG``, else
    ``./connectkit.toml`` if it exists, else None (built-in defaults)."""
    if path is not None:
        return path
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    local = Path.cwd() / DEFAULT_FILE
    return local if local.is_file() else None


def state_folder_name(integration: str) -> str:
    """A file-system-safe, stable folder name for an integration's connector state."""
    slug = _UNSAFE.sub("-", integration).strip("-.") or "integration"
    return slug[:80]


@dataclass
class App:
    """One running connectkit: its config, plugin hooks, store engine and state folder."""

    config: Config
    hooks: Hooks
    load_report: LoadReport
    engine: Engine
    state_dir: Path
    transport: httpx.BaseTransport | None = field(default=None, repr=False)

    @classmethod
    def from_config(
        cls,
        path: Path | None = None,
        *,
        extra_plugins: Sequence[tuple[str, Any]] = (),
        transport: httpx.BaseTransport | None = None,
    ) -> App:
        """Load config and plugins, build the store engine; raises ConfigError subclasses.

        ``extra_plugins`` are ``(name, plugin)`` pairs registered beside the installed
        ones (tests, embedding); ``transport`` is handed to every connector context.
        """
        install_log_redaction()
        source = find_config(path)
        doc = read_document(source) if source is not None else {}
        pm, report = load_plugins(enabled_plugins(doc), extra=extra_plugins)
        hooks = Hooks(pm)
        config = build_config(doc, hooks, source=source)
        return cls(
            config=config,
            hooks=hooks,
            load_report=report,
            engine=make_engine(config.store.url),
            state_dir=config.store.state_dir,
            transport=transport,
        )

    def connector_context(
        self, integration_name: str, connector_config: Mapping[str, Any]
    ) -> ConnectorContext:
        """The context for one connector call on ``integration_name``.

        ``connector_config`` is the connector section (secrets as Secret objects). The
        integration's state folder ``state_dir/<name>`` is created here on demand.
        """
        folder = self.state_dir / state_folder_name(integration_name)
        folder.mkdir(parents=True, exist_ok=True)
        return ConnectorContext(
            integration=integration_name,
            config=connector_config,
            state_dir=folder,
            transport=self.transport,
        )

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
