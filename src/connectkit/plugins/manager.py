"""Find plugins through entry points and register them one at a time.

stevedore lists the ``connectkit.plugins`` entry points; each is imported and registered
into a fresh pluggy manager on its own, so a plugin that fails to import, to instantiate
or to match the hook specifications is recorded in :class:`LoadReport` and the others
still load (pluggy's own ``load_setuptools_entrypoints`` stops at the first failure).
There is no global manager: every caller builds its own with :func:`load_plugins`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy

from connectkit import hookspecs
from connectkit.errors import PluginLoadError
from connectkit.secrets import redact

ENTRY_POINT_GROUP = "connectkit.plugins"
ALLOW_ENV = "CONNECTKIT_PLUGINS"
log = logging.getLogger(__name__)

PluginManager = pluggy.PluginManager


@dataclass(frozen=True)
class LoadedPlugin:
    """A plugin that registered: its entry-point name, distribution version, hooks."""

    name: str
    version: str
    hooks: tuple[str, ...]


@dataclass
class LoadReport:
    """What happened while loading plugins."""

    loaded: list[LoadedPlugin] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    """Entry-point name -> why it failed (secret-free)."""
    skipped: list[str] = field(default_factory=list)
    """Entry points present but not in the allow-list."""


def new_manager() -> pluggy.PluginManager:
    """A plugin manager with connectkit's specs and no plugins."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def allow_list(configured: Sequence[str] | None = None) -> set[str] | None:
    """The plugin names allowed to load: env ``CONNECTKIT_PLUGINS`` (comma-separated)
    wins over the config's ``plugins.enabled``; None means all."""
    env = os.environ.get(ALLOW_ENV)
    if env is not None:
        return {name.strip() for name in env.split(",") if name.strip()}
    return set(configured) if configured is not None else None


def register(pm: pluggy.PluginManager, name: str, plugin: Any, version: str = "") -> LoadedPlugin:
    """Register one plugin object (a module, class or instance); raises PluginLoadError."""
    if isinstance(plugin, type):
        plugin = plugin()
    try:
        pm.register(plugin, name=name)
        pm.check_pending()
    except Exception as exc:
        if pm.is_registered(plugin):
            pm.unregister(plugin)
        raise PluginLoadError(name, f"{type(exc).__name__}: {exc}") from exc
    hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))
    return LoadedPlugin(name=name, version=version, hooks=hooks)


def _entry_points() -> Iterable[Any]:
    from stevedore import ExtensionManager

    # invoke_on_load=False: stevedore only lists and imports; registration is ours.
    failures: dict[str, str] = {}

    def on_load_failure(_manager: Any, entry_point: Any, exc: BaseException) -> None:
        failures[entry_point.name] = f"{type(exc).__name__}: {exc}"

    manager = ExtensionManager(
        namespace=ENTRY_POINT_GROUP,
        invoke_on_load=False,
        on_load_failure_callback=on_load_failure,
    )
    for name, reason in failures.items():
        yield name, None, reason
    for extension in manager.extensions:
        yield extension.name, extension, None


def _version_of(extension: Any) -> str:
    dist = getattr(extension.entry_point, "dist", None)
    known = getattr(dist, "version", None)
    if known:
        return str(known)
    # stevedore's entry-point cache drops ``dist``: find it from the top-level package.
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    top = str(extension.entry_point.value).split(":")[0].split(".")[0]
    for name in packages_distributions().get(top, []):
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return ""


def load_plugins(
    enabled: Sequence[str] | None = None,
    extra: Sequence[tuple[str, Any]] = (),
) -> tuple[pluggy.PluginManager, LoadReport]:
    """Build a plugin manager with every installed (and allowed) plugin plus ``extra``.

    ``enabled`` is the config's allow-list; ``extra`` are ``(name, plugin)`` pairs
    registered directly (tests, embedding). Never raises for a broken plugin.
    """
    pm = new_manager()
    report = LoadReport()
    allowed = allow_list(enabled)
    for name, extension, failure in _entry_points():
        if allowed is not None and name not in allowed:
            report.skipped.append(name)
            continue
        if failure is not None:
            report.failed[name] = redact(failure)
            log.warning("plugin %s failed to load: %s", name, failure)
            continue
        _register_reporting(pm, report, name, extension.plugin, _version_of(extension))
    for name, plugin in extra:
        _register_reporting(pm, report, name, plugin, "")
    return pm, report


def _register_reporting(
    pm: pluggy.PluginManager, report: LoadReport, name: str, plugin: Any, version: str
) -> None:
    try:
        report.loaded.append(register(pm, name, plugin, version))
    except PluginLoadError as exc:
        report.failed[name] = exc.reason
        log.warning("plugin %s failed to register: %s", name, exc.reason)
