"""Plugin discovery, registration and the typed facade over connector operations."""

from __future__ import annotations

from connectkit.plugins.facade import Connector, Hooks
from connectkit.plugins.manager import LoadReport, PluginManager, load_plugins

__all__ = ["Connector", "Hooks", "LoadReport", "PluginManager", "load_plugins"]
