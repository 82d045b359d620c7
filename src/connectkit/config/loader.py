"""Read a TOML config file and turn it into a validated, typed :class:`Config`.

Steps: parse TOML; substitute ``${VAR}`` from the environment; check that secrets
(``writeOnly`` values) are ``${VAR}`` references, never written in clear; validate
against the core schema and each connector's schema (every problem at once); fill in
defaults; wrap secrets; make relative paths absolute against the config file's folder.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from connectkit.config.env import ONLY_REF, Missing, missing_messages, substitute, wrap_secrets
from connectkit.config.model import (
    Config,
    EmailConfig,
    IntegrationConfig,
    NotificationConfig,
    StoreConfig,
    SyncConfig,
)
from connectkit.config.paths import Path as KeyPath
from connectkit.config.paths import format_path
from connectkit.config.schema import Schema, core_schema, get_at, with_defaults, write_only_paths
from connectkit.config.validate import CONNECTOR_KEY, connector_schema_for, validate_document
from connectkit.errors import (
    ConfigError,
    ConfigValidationError,
    ConnectkitError,
    SecretMissingError,
)
from connectkit.processes import second_core_usable
from connectkit.secrets import register_secret

if TYPE_CHECKING:
    from connectkit.plugins import Hooks


def read_document(path: Path) -> dict[str, Any]:
    """Parse the TOML file at ``path``; ConfigError when missing or not valid TOML."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def enabled_plugins(doc: Mapping[str, Any]) -> list[str] | None:
    """``plugins.enabled`` when it is a list of strings, else None (validation reports it)."""
    plugins = doc.get("plugins")
    enabled = plugins.get("enabled") if isinstance(plugins, dict) else None
    if isinstance(enabled, list) and all(isinstance(n, str) for n in enabled):
        return enabled
    return None


def _connector_schemas(doc: Mapping[str, Any], hooks: Hooks | None) -> dict[int, Schema]:
    found: dict[int, Schema] = {}
    if hooks is None:
        return found
    for index, item in enumerate(doc.get("integrations") or []):
        section = item.get("connector") if isinstance(item, dict) else None
        if isinstance(section, dict) and isinstance(section.get(CONNECTOR_KEY), str):
            try:
                found[index] = connector_schema_for(hooks, section[CONNECTOR_KEY])
            except ConnectkitError:
                continue  # validation reports the unknown connector
    return found


def secret_paths(doc: Any, hooks: Hooks | None) -> list[KeyPath]:
    """Paths of every writeOnly value in ``doc`` under the core and connector schemas."""
    paths = write_only_paths(doc, core_schema())
    if not isinstance(doc, dict):
        return paths
    for index, schema in _connector_schemas(doc, hooks).items():
        section = doc["integrations"][index]["connector"]
        body = {k: v for k, v in section.items() if k != CONNECTOR_KEY}
        prefix: KeyPath = ("integrations", index, "connector")
        paths.extend((*prefix, *p) for p in write_only_paths(body, schema))
    return paths


def _clear_secret_issues(raw: Any, paths: list[KeyPath]) -> list[str]:
    issues = []
    for path in paths:
        value = get_at(raw, path)
        if isinstance(value, str) and not ONLY_REF.match(value):
            issues.append(
                f"{format_path(path)}: a secret must come from the environment: write"
                ' "${VARIABLE}" here and set VARIABLE'
            )
    return issues


def _absolute_sqlite(url: str, base: Path) -> str:
    parsed = make_url(url)
    db = parsed.database
    if parsed.get_backend_name() != "sqlite" or not db or db == ":memory:":
        return url
    if Path(db).is_absolute():
        return url
    return parsed.set(database=str(base / db)).render_as_string(hide_password=False)


def _store(doc: Mapping[str, Any], base: Path) -> StoreConfig:
    store = doc["store"]
    url = _absolute_sqlite(store["url"], base)
    password = make_url(url).password
    if password:
        register_secret(str(password))
    return StoreConfig(url=url, state_dir=base / store["state_dir"])


def _sync(doc: Mapping[str, Any]) -> SyncConfig:
    choice = doc["sync"]["import_worker"]
    if choice == "auto":
        choice = second_core_usable()
    return SyncConfig(import_worker=bool(choice))


def _notifications(doc: Mapping[str, Any]) -> NotificationConfig:
    sections = dict(doc["notifications"])
    email = sections.pop("email", None)
    return NotificationConfig(email=EmailConfig(**email) if email else None, channels=sections)


def _integration(item: Mapping[str, Any], raw: Mapping[str, Any]) -> IntegrationConfig:
    connector = dict(item["connector"])
    refs = dict(raw["connector"])
    return IntegrationConfig(
        name=item["name"],
        connector_type=connector.pop(CONNECTOR_KEY),
        connector=connector,
        connector_refs={k: v for k, v in refs.items() if k != CONNECTOR_KEY},
        settings=item["settings"],
        mapping=item["mapping"],
    )


def _defaults(doc: dict[str, Any], hooks: Hooks | None) -> dict[str, Any]:
    filled: dict[str, Any] = with_defaults(doc, core_schema())
    for index, schema in _connector_schemas(filled, hooks).items():
        section = filled["integrations"][index]["connector"]
        filled["integrations"][index]["connector"] = with_defaults(section, schema)
    return filled


def build_config(
    doc: dict[str, Any],
    hooks: Hooks | None,
    *,
    source: Path | None = None,
    env: Mapping[str, str] | None = None,
    allow_missing_env: bool = False,
    base: Path | None = None,
) -> Config:
    """Validate the parsed document ``doc`` and build a :class:`Config`.

    Raises :class:`ConfigValidationError` listing every problem (schema violations,
    secrets written in clear, unset variables), or :class:`SecretMissingError` when the
    only problems are unset ``${VAR}`` s. With ``allow_missing_env`` unset variables are
    tolerated (``config check`` without the deployment's environment). Relative paths
    are resolved against ``source``'s folder, else ``base``, else the working directory.
    """
    missing: Missing = []
    resolved = substitute(doc, os.environ if env is None else env, missing)
    secrets = secret_paths(resolved, hooks)
    for path in secrets:  # register before anything can print them
        value = get_at(resolved, path)
        if isinstance(value, str):
            register_secret(value)
    skip = [path for path, _ in missing]
    issues = _clear_secret_issues(doc, secrets)
    issues += validate_document(resolved, hooks, skip=skip)
    unset = [] if allow_missing_env else missing_messages(missing)
    label = str(source) if source else "config"
    if issues:
        raise ConfigValidationError(unset + issues, source=label)
    if unset:
        raise SecretMissingError(f"{label}: " + "; ".join(unset))
    filled = wrap_secrets(_defaults(resolved, hooks), secrets)
    raw = with_defaults(doc, core_schema())
    base = source.resolve().parent if source else (base or Path.cwd()).resolve()
    enabled = enabled_plugins(filled)
    return Config(
        store=_store(filled, base),
        plugins_enabled=tuple(enabled) if enabled is not None else None,
        notifications=_notifications(filled),
        sync=_sync(filled),
        integrations=tuple(
            _integration(item, raw_item)
            for item, raw_item in zip(filled["integrations"], raw["integrations"], strict=True)
        ),
        source=source,
    )


def load_config(path: Path, hooks: Hooks | None = None) -> Config:
    """Load and validate the config file at ``path``.

    ``hooks`` supplies the connectors whose schemas validate each integration's
    connector section; None loads the installed plugins (honouring the file's
    ``plugins.enabled`` and ``CONNECTKIT_PLUGINS``) to get them.
    """
    doc = read_document(path)
    if hooks is None:
        from connectkit.plugins import Hooks, load_plugins

        pm, _report = load_plugins(enabled_plugins(doc))
        hooks = Hooks(pm)
    return build_config(doc, hooks, source=path)


def default_config(base: Path | None = None) -> Config:
    """The built-in defaults: SQLite at ``var/connectkit.sqlite`` and state in
    ``var/state``, both under ``base`` (default: the working directory)."""
    return build_config({}, None, base=base)
