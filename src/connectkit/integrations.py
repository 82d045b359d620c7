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
"""

from __future__ import annotations

import copy
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import email_validator
import httpx
import phonenumbers
from jsonschema import Draft202012Validator
from sqlalchemy import Connection, Engine, RowMapping, and_, delete, func, insert, select, update

from connectkit.config.schema import core_schema, with_defaults
from connectkit.config.validate import schema_issues
from connectkit.context import ConnectorContext
from connectkit.errors import (
    ConfigValidationError,
    ConnectkitError,
    SecretMissingError,
    StateError,
)
from connectkit.models import AccessState, AccessStatus, SchoolInfo
from connectkit.plugins.facade import Connector, Hooks
from connectkit.secrets import Secret, redact
from connectkit.store.tables import (
    access_state,
    integration_events,
    integrations,
    sites,
    staged_records,
    sync_runs,
    users,
)

if TYPE_CHECKING:
    from connectkit.app import App
    from connectkit.config import IntegrationConfig

log = logging.getLogger(__name__)


class Status(StrEnum):
    """An integration's status (R1.4)."""

    PENDING = "pending"
    READY = "ready"
    DRAFT = "draft"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


class Health(StrEnum):
    """Whether runs are going well: ``on_hold`` = a run waits for approval (mass-change guard)."""

    OK = "ok"
    ON_HOLD = "on_hold"
    FAILING = "failing"


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.PENDING: frozenset({Status.READY}),
    Status.READY: frozenset({Status.DRAFT}),
    Status.DRAFT: frozenset({Status.ACTIVE}),
    Status.ACTIVE: frozenset({Status.DEACTIVATED}),
    Status.DEACTIVATED: frozenset({Status.ACTIVE}),
}
"""Legal status moves; anything else is refused."""


def now() -> datetime:
    """The current time (UTC); tests may monkeypatch this one clock."""
    return datetime.now(UTC)


def _aware(value: Any) -> Any:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class IntegrationRow:
    """One ``integrations`` row, typed; ``connector_config`` holds ``${VAR}`` refs only."""

    id: int
    name: str
    connector: str
    status: Status
    health: Health
    connector_config: dict[str, Any]
    settings: dict[str, Any]
    mapping: dict[str, Any]
    mapping_version: int
    created_at: datetime
    updated_at: datetime
    last_full_sync_at: datetime | None
    last_delta_sync_at: datetime | None

    @classmethod
    def from_row(cls, row: RowMapping) -> IntegrationRow:
        return cls(
            id=row["id"],
            name=row["name"],
            connector=row["connector"],
            status=Status(row["status"]),
            health=Health(row["health"]),
            connector_config=dict(row["connector_config"] or {}),
            settings=dict(row["settings"] or {}),
            mapping=dict(row["mapping"] or {}),
            mapping_version=row["mapping_version"],
            created_at=_aware(row["created_at"]),
            updated_at=_aware(row["updated_at"]),
            last_full_sync_at=_aware(row["last_full_sync_at"]),
            last_delta_sync_at=_aware(row["last_delta_sync_at"]),
        )


# --- reading ---------------------------------------------------------------------------


def get(conn: Connection, name_or_id: str | int, *, for_update: bool = False) -> IntegrationRow:
    """The integration named ``name_or_id`` (or with that id); StateError if there is none.

    A string is looked up by name first, then, if it is all digits, by id.
    ``for_update`` locks the row (PostgreSQL) for the rest of the transaction.
    """
    query = select(integrations)
    if for_update:
        query = query.with_for_update()
    row: RowMapping | None = None
    if isinstance(name_or_id, str):
        row = conn.execute(query.where(integrations.c.name == name_or_id)).mappings().first()
        if row is None and name_or_id.isdigit():
            name_or_id = int(name_or_id)
    if row is None and isinstance(name_or_id, int):
        row = conn.execute(query.where(integrations.c.id == name_or_id)).mappings().first()
    if row is None:
        raise StateError(f"no integration named or numbered {name_or_id!r}")
    return IntegrationRow.from_row(row)


def list_all(conn: Connection) -> list[IntegrationRow]:
    """Every integration, by name (a deployment has a handful, not thousands)."""
    rows = conn.execute(select(integrations).order_by(integrations.c.name)).mappings()
    return [IntegrationRow.from_row(row) for row in rows]


@dataclass(frozen=True)
class Event:
    """One recorded status / health / settings / mapping change."""

    at: datetime
    kind: str
    from_value: str | None
    to_value: str
    cause: str
    actor: str


def events(conn: Connection, integration_id: int) -> Iterator[Event]:
    """The integration's recorded events, oldest first (streamed)."""
    query = (
        select(integration_events)
        .where(integration_events.c.integration_id == integration_id)
        .order_by(integration_events.c.id)
    )
    for row in conn.execute(query).mappings():
        yield Event(
            _aware(row["at"]), row["kind"], row["from_value"], row["to_value"], row["cause"],
            row["actor"],
        )


def record_event(
    conn: Connection,
    integration_id: int,
    kind: str,
    from_value: str | None,
    to_value: str,
    *,
    cause: str,
    actor: str,
) -> None:
    """Append one ``integration_events`` row (cause and actor are required and redacted)."""
    if not cause.strip() or not actor.strip():
        raise StateError("every integration event needs a cause and an actor")
    conn.execute(
        insert(integration_events).values(
            integration_id=integration_id,
            at=now(),
            kind=kind,
            from_value=from_value,
            to_value=to_value,
            cause=redact(cause),
            actor=redact(actor)[:120],
        )
    )


# --- the agreed API: status and health -----------------------------------------------


def transition(
    conn: Connection, integration_id: int, to: Status, *, cause: str, actor: str
) -> None:
    """Move the integration to status ``to`` and log it (R1.4).

    Raises StateError for a move the machine does not allow (naming both statuses) or an
    unknown integration. Moving to the current status does nothing. The update is a
    compare-and-set on the old status, so two racing callers cannot both succeed.
    """
    to = Status(to)
    current = get(conn, integration_id, for_update=True)
    if current.status == to:
        return
    if to not in ALLOWED[current.status]:
        allowed = ", ".join(sorted(ALLOWED[current.status])) or "nothing"
        raise StateError(
            f"integration {current.name!r} is {current.status}; it cannot become {to} "
            f"(from {current.status} it can become: {allowed})"
        )
    result = conn.execute(
        update(integrations)
        .where(and_(integrations.c.id == integration_id, integrations.c.status == current.status))
        .values(status=str(to), updated_at=now())
    )
    if result.rowcount != 1:
        raise StateError(f"integration {current.name!r} changed status meanwhile; try again")
    record_event(conn, integration_id, "status", current.status, to, cause=cause, actor=actor)
    log.info("integration %s: %s -> %s (%s, by %s)", current.name, current.status, to, cause, actor)


def set_health(
    conn: Connection, integration_id: int, health: str, *, cause: str, actor: str
) -> None:
    """Set the integration's health (``ok`` / ``on_hold`` / ``failing``) and log the change.

    Raises StateError for an unknown health value or integration; the same value is a no-op.
    """
    try:
        target = Health(health)
    except ValueError:
        known = ", ".join(h.value for h in Health)
        raise StateError(f"unknown health {health!r} (one of: {known})") from None
    current = get(conn, integration_id, for_update=True)
    if current.health == target:
        return
    conn.execute(
        update(integrations)
        .where(integrations.c.id == integration_id)
        .values(health=str(target), updated_at=now())
    )
    record_event(conn, integration_id, "health", current.health, target, cause=cause, actor=actor)


# --- settings (R1.3) -----------------------------------------------------------------

def settings_schema() -> dict[str, Any]:
    """The JSON Schema of ``[integrations.settings]``: the one in the core config schema,
    so the CLI, the API and the config file accept exactly the same settings."""
    root = core_schema()
    return {**root["$defs"]["settings"], "$defs": root.get("$defs", {})}


def _merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` laid over it; nested tables merge key by key."""
    merged = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _value_issues(settings: Mapping[str, Any]) -> list[str]:
    """What the schema cannot say: a region phonenumbers knows, real email addresses."""
    issues: list[str] = []
    region = settings.get("phone_region")
    if isinstance(region, str) and region not in phonenumbers.SUPPORTED_REGIONS:
        issues.append(f"settings.phone_region: {region!r} is not a known region code")
    recipients = settings.get("notify_to")
    for i, address in enumerate(recipients if isinstance(recipients, list) else []):
        try:
            email_validator.validate_email(str(address), check_deliverability=False)
        except email_validator.EmailNotValidError as exc:
            issues.append(f"settings.notify_to[{i}]: {address!r} is not an email address ({exc})")
    return issues


def validate_settings(settings: Mapping[str, Any], *, source: str = "settings") -> dict[str, Any]:
    """Return ``settings`` completed with defaults, or raise ConfigValidationError listing
    every problem with its key path (``settings.deletion: 'purge' is not one of ...``)."""
    schema = settings_schema()
    plain = copy.deepcopy(dict(settings))
    issues = schema_issues(plain, schema, ("settings",)) + _value_issues(plain)
    if issues:
        raise ConfigValidationError(issues, source=source)
    return dict(with_defaults(plain, schema))


def ensure_sites(conn: Connection, names: Sequence[str]) -> None:
    """Create the directory sites an integration names that do not exist yet."""
    existing = set(conn.execute(select(sites.c.name).where(sites.c.name.in_(names))).scalars())
    missing = [name for name in dict.fromkeys(names) if name not in existing]
    if missing:
        conn.execute(insert(sites), [{"name": name} for name in missing])


# --- connector config and secrets ------------------------------------------------------

_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_ANY_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _secret_keys(schema: Mapping[str, Any], prefix: str = "") -> set[str]:
    """Dotted paths of every ``writeOnly`` property in ``schema``."""
    found: set[str] = set()
    for key, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        path = f"{prefix}{key}"
        if sub.get("writeOnly"):
            found.add(path)
        found |= _secret_keys(sub, f"{path}.")
    return found


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    else:
        yield path, value


def check_stored_config(config: Mapping[str, Any], schema: Mapping[str, Any], where: str) -> None:
    """Refuse a connector config that would store a secret in clear.

    Every ``writeOnly`` property must be a whole ``${VAR}`` reference; a Secret object or
    a clear string is refused (ConfigValidationError naming the key, never the value).
    """
    secret_paths = _secret_keys(schema)
    issues = []
    for path, value in _walk(config):
        if isinstance(value, Secret) or (
            path in secret_paths and not (isinstance(value, str) and _REF.match(value))
        ):
            issues.append(
                f"{where}.{path}: a secret must be given as an ${{ENV_VAR}} reference; "
                "connectkit never stores secrets in clear"
            )
    if issues:
        raise ConfigValidationError(issues, source=where)


def resolve_config(
    config: Mapping[str, Any], schema: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Replace ``${VAR}`` references by environment values; writeOnly ones become Secret.

    Raises SecretMissingError naming the variable (and key) when it is not set.
    """
    env = os.environ if environ is None else environ
    secret_paths = _secret_keys(schema)

    def resolve(value: Any, path: str) -> Any:
        if isinstance(value, Mapping):
            return {k: resolve(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v, path) for v in value]
        if not isinstance(value, str) or "${" not in value:
            return value

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise SecretMissingError(f"environment variable {name} (for {path}) is not set")
            return env[name]

        text = _ANY_REF.sub(substitute, value)
        return Secret(text) if path in secret_paths else text

    return {key: resolve(value, str(key)) for key, value in config.items()}


def _plain(value: Any) -> Any:
    """Secrets revealed, for JSON Schema validation only."""
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def validate_connector_config(
    connector: Connector,
    resolved: Mapping[str, Any],
    where: str,
    *,
    partial: bool = False,
) -> None:
    """Validate a resolved connector config against the plugin's JSON Schema, every error
    at once with its key path. ``partial`` ignores missing required keys (request access)."""
    validator = Draft202012Validator(connector.config_schema())
    issues = []
    for error in sorted(validator.iter_errors(_plain(resolved)), key=lambda e: list(e.path)):
        if partial and error.validator == "required":
            continue
        path = ".".join(str(part) for part in error.absolute_path)
        issues.append(f"{where}{'.' + path if path else ''}: {error.message}")
    if issues:
        raise ConfigValidationError(issues, source=where)


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


# --- creating ----------------------------------------------------------------------------


def _require_free_name(conn: Connection, name: str) -> None:
    if not name.strip():
        raise StateError("an integration needs a name")
    taken = conn.execute(select(integrations.c.id).where(integrations.c.name == name)).first()
    if taken is not None:
        raise StateError(f"an integration named {name!r} already exists")


def _insert(
    conn: Connection,
    *,
    name: str,
    connector: str,
    status: Status,
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
    mapping: Mapping[str, Any],
    cause: str,
    actor: str,
) -> int:
    _require_free_name(conn, name)
    stamp = now()
    new_id = conn.execute(
        insert(integrations)
        .values(
            name=name,
            connector=connector,
            status=str(status),
            health=str(Health.OK),
            connector_config=dict(config),
            settings=dict(settings),
            mapping=dict(mapping),
            mapping_version=1,
            created_at=stamp,
            updated_at=stamp,
        )
        .returning(integrations.c.id)
    ).scalar_one()
    record_event(conn, new_id, "status", None, status, cause=cause, actor=actor)
    return int(new_id)


def create(
    conn: Connection,
    env: Environment,
    *,
    name: str,
    connector: str,
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
    actor: str,
) -> tuple[IntegrationRow, SchoolInfo]:
    """Create an integration with credentials (R1.1); it starts Ready.

    Order: settings are validated, the config is checked (secrets only as ``${VAR}``
    references, plugin JSON Schema), then the connector checks the credentials against
    the MIS. Only if all of that passes is anything written. Bad credentials raise the
    connector's InvalidCredentialsError / AccessNotGrantedError / NotFoundError.
    """
    _require_free_name(conn, name)
    clean = validate_settings(settings, source=f"integration {name!r} settings")
    plugin = env.connector(connector)
    school = plugin.check_credentials(env.context(plugin, name, config))
    ensure_sites(conn, clean["sites"])
    new_id = _insert(
        conn, name=name, connector=connector, status=Status.READY, config=config,
        settings=clean, mapping={},
        cause=f"created; credentials accepted for school {school.name!r} ({school.id})",
        actor=actor,
    )
    return get(conn, new_id), school


def _store_access(conn: Connection, integration_id: int, status: AccessStatus) -> None:
    values = {"state": str(status.state), "detail": status.detail, "checked_at": now()}
    done = conn.execute(
        update(access_state).where(access_state.c.integration_id == integration_id).values(values)
    )
    if done.rowcount == 0:
        conn.execute(insert(access_state).values(integration_id=integration_id, **values))


def request_access(
    conn: Connection,
    env: Environment,
    *,
    name: str,
    connector: str,
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
    contacts: Sequence[dict[str, str]],
    actor: str,
) -> tuple[IntegrationRow, AccessStatus]:
    """Create an integration without credentials by requesting access (R1.2).

    The connector sends the request (it must declare ``capabilities.request_access``);
    the integration is stored Pending (Ready at once if the MIS already approved).
    Missing required config keys (the token) are allowed; clear secrets are not.
    """
    _require_free_name(conn, name)
    clean = validate_settings(settings, source=f"integration {name!r} settings")
    plugin = env.connector(connector)
    status = plugin.request_access(env.context(plugin, name, config, partial=True), contacts)
    ensure_sites(conn, clean["sites"])
    new_id = _insert(
        conn, name=name, connector=connector, status=Status.PENDING, config=config,
        settings=clean, mapping={}, cause=f"access requested ({status.state})", actor=actor,
    )
    _store_access(conn, new_id, status)
    if status.state == AccessState.APPROVED:
        transition(conn, new_id, Status.READY, cause="access approved by the MIS", actor=actor)
    return get(conn, new_id), status


def check_access(
    conn: Connection, env: Environment, integration: str | int, *, actor: str
) -> AccessStatus:
    """Ask the connector where a Pending integration's access request stands (R1.2).

    Stores the answer; ``approved`` moves the integration Pending -> Ready. Called on
    demand (CLI) and by the scheduler. StateError unless the integration is Pending.
    """
    row = get(conn, integration)
    if row.status != Status.PENDING:
        raise StateError(f"integration {row.name!r} is {row.status}, not pending access")
    status = env.connector(row.connector).check_access(env.context_for(row))
    _store_access(conn, row.id, status)
    if status.state == AccessState.APPROVED:
        transition(conn, row.id, Status.READY, cause="access approved by the MIS", actor=actor)
    return status


def check_all_pending(
    engine: Engine, env: Environment, *, actor: str = "scheduler"
) -> dict[str, AccessStatus | ConnectkitError]:
    """The scheduled side of R1.2: check every Pending integration, each in its own
    transaction; a connector failure is returned for that integration, the rest go on."""
    with engine.connect() as conn:
        names = list(conn.execute(
            select(integrations.c.name).where(integrations.c.status == str(Status.PENDING))
            .order_by(integrations.c.name)
        ).scalars())
    results: dict[str, AccessStatus | ConnectkitError] = {}
    for name in names:
        try:
            with engine.begin() as conn:
                results[name] = check_access(conn, env, name, actor=actor)
        except ConnectkitError as exc:
            log.warning("checking access of %s failed: %s", name, exc)
            results[name] = exc
    return results


# --- editing -------------------------------------------------------------------------


def update_settings(
    conn: Connection, integration: str | int, changes: Mapping[str, Any], *, actor: str
) -> IntegrationRow:
    """Lay ``changes`` over the integration's settings, validate the result (R1.3), save it.

    Nested tables merge key by key (``{"photos": {"import": True}}`` keeps ``existing``).
    An edit that changes nothing writes nothing. Logged as a ``settings`` event.
    """
    row = get(conn, integration, for_update=True)
    merged = validate_settings(
        _merge(row.settings, changes), source=f"integration {row.name!r} settings"
    )
    if merged == row.settings:
        return row
    ensure_sites(conn, merged["sites"])
    conn.execute(
        update(integrations).where(integrations.c.id == row.id)
        .values(settings=merged, updated_at=now())
    )
    changed = sorted(k for k in merged if merged[k] != row.settings.get(k))
    record_event(conn, row.id, "settings", None, "edited",
                 cause=f"settings changed: {', '.join(changed)}", actor=actor)
    return get(conn, row.id)


def update_connector_config(
    conn: Connection, env: Environment, integration: str | int, changes: Mapping[str, Any],
    *, actor: str, replace: bool = False,
) -> IntegrationRow:
    """Change connector keys (e.g. add the token once access is granted); ``replace``
    takes ``changes`` as the whole new section instead of laying it over the old one.

    Unless the integration is Pending, the new credentials are checked against the MIS
    first (R1.1) and nothing is saved when they are refused.
    """
    row = get(conn, integration, for_update=True)
    merged = dict(changes) if replace else _merge(row.connector_config, changes)
    plugin = env.connector(row.connector)
    if row.status == Status.PENDING:
        env.context(plugin, row.name, merged, partial=True)
    else:
        plugin.check_credentials(env.context(plugin, row.name, merged))
    if merged != row.connector_config:
        conn.execute(
            update(integrations).where(integrations.c.id == row.id)
            .values(connector_config=merged, updated_at=now())
        )
        record_event(conn, row.id, "settings", None, "edited",
                     cause=f"connector keys changed: {', '.join(sorted(changes))}", actor=actor)
    return get(conn, row.id)


def deactivate(conn: Connection, integration: str | int, *, actor: str, cause: str = "") -> None:
    """Stop automatic runs (R4.6): Active -> Deactivated; manual runs still work."""
    row = get(conn, integration)
    transition(conn, row.id, Status.DEACTIVATED, cause=cause or "deactivated", actor=actor)


def activate(conn: Connection, integration: str | int, *, actor: str, cause: str = "") -> None:
    """Restart automatic runs (R4.6): Deactivated -> Active."""
    row = get(conn, integration)
    transition(conn, row.id, Status.ACTIVE, cause=cause or "reactivated", actor=actor)


# --- removing (R7) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Removal:
    """What removing an integration did to the directory."""

    name: str
    users_unlinked: int
    users_deleted: int


def run_in_progress(conn: Connection, integration_id: int) -> bool:
    """True when a sync run of the integration holds an unexpired lease."""
    query = select(func.count()).select_from(sync_runs).where(
        sync_runs.c.integration_id == integration_id,
        sync_runs.c.finished_at.is_(None),
        sync_runs.c.lease_expires_at > now(),
    )
    return bool(conn.execute(query).scalar_one())


def remove(
    conn: Connection, integration: str | int, *, delete_users: bool = False, actor: str
) -> Removal:
    """Remove an integration (R7). The caller has asked the admin to confirm.

    Its directory users are kept but unlinked (``integration_id``, ``mis_id``,
    ``person_id``, ``mis_code``, ``record_hash`` cleared) unless ``delete_users``.
    Its staging, runs, overrides, skips and events go with it. Refused (StateError)
    while a run holds a live lease.
    """
    row = get(conn, integration, for_update=True)
    if run_in_progress(conn, row.id):
        raise StateError(f"integration {row.name!r} has a sync run in progress; try later")
    mine = users.c.integration_id == row.id
    unlinked = deleted = 0
    if delete_users:
        deleted = conn.execute(delete(users).where(mine)).rowcount
    else:
        unlinked = conn.execute(
            update(users).where(mine).values(
                integration_id=None, mis_id=None, person_id=None, mis_code=None,
                record_hash=None, updated_at=now(),
            )
        ).rowcount
    conn.execute(delete(staged_records).where(staged_records.c.integration_id == row.id))
    conn.execute(delete(integrations).where(integrations.c.id == row.id))
    log.info("integration %s removed by %s: %d users unlinked, %d deleted",
             row.name, actor, unlinked, deleted)
    return Removal(row.name, unlinked, deleted)


# --- applying the deployment config -------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    """What ``integrations apply`` did to one integration: ``created``, ``updated`` or
    ``unchanged``, with what changed and any mapping warnings."""

    name: str
    action: str
    changed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def apply_one(
    conn: Connection, env: Environment, spec: IntegrationConfig, *, actor: str,
    confirm_reimport: bool = False,
) -> Applied:
    """Create or update one integration from its ``[[integrations]]`` config entry.

    A new integration is created with its credentials checked (R1.1); an existing one
    gets the changed connector keys (credentials re-checked), settings and mapping.
    Missing user types and areas named by the mapping are created (the config file is
    the admin's confirmation). A mapping change after an import needs
    ``confirm_reimport`` (R2.4) and is refused while errors or duplicates wait (R2.5).
    The connector type of an existing integration cannot change (remove it first).
    """
    from connectkit.sync import mapping_rules

    refs, settings, mapping = dict(spec.connector_refs), dict(spec.settings), dict(spec.mapping)
    exists = conn.execute(
        select(integrations.c.id).where(integrations.c.name == spec.name)
    ).scalar_one_or_none()
    changed: list[str] = []
    if exists is None:
        create(conn, env, name=spec.name, connector=spec.connector_type, config=refs,
               settings=settings, actor=actor)
        action = "created"
    else:
        row = get(conn, exists)
        if row.connector != spec.connector_type:
            raise StateError(
                f"integration {spec.name!r} uses connector {row.connector!r}, the config says "
                f"{spec.connector_type!r}; remove the integration to change its connector"
            )
        if refs != row.connector_config:
            update_connector_config(conn, env, row.id, refs, actor=actor, replace=True)
            changed.append("connector")
        if update_settings(conn, row.id, settings, actor=actor).settings != row.settings:
            changed.append("settings")
        action = "updated" if changed else "unchanged"
    warnings: tuple[str, ...] = ()
    if mapping:
        result = mapping_rules.save_mapping(
            conn, env, spec.name, mapping, actor=actor, confirm_reimport=confirm_reimport,
            create_missing=True,
        )
        warnings = result.check.warnings
        if result.changed and action == "unchanged":
            action, changed = "updated", [*changed, "mapping"]
        elif result.changed:
            changed.append("mapping")
    return Applied(spec.name, action, tuple(changed), warnings)
