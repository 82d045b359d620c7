"""Rules for an integration's mapping (R2) and for changing it (R2.4, R2.5).

A mapping has the ``[integrations.mapping]`` shape: per population (``students``,
``staff``) a ``fields`` table (MIS field path -> directory field), a ``groups`` table (MIS
group id -> user type name) and, for students only, the sign-in ``area``.

:func:`check_mapping` is pure and reports *every* problem at once as a
:class:`~connectkit.errors.MappingError`:

- an unknown population or key; a directory field that does not exist;
- two MIS fields onto one directory field (the error names both);
- an MIS field path the connector does not offer for that population
  (``ConnectorInfo.fields``), or a group id the MIS does not have (``fetch_groups``);
- a group mapped to anything but one user type name, or to different user types in
  the two populations (a group maps to at most one user type);
- a user type (or the students' area) that does not exist in the directory.

Missing user types and areas are refused unless the caller confirms creating them
(``create_missing=True``, CLI ``--create-types``); :func:`save_mapping` then creates them
in the same transaction. A deployment config applied with ``integrations apply`` counts
as that confirmation (the config file is declarative).

:func:`save_mapping` enforces R2.5 (refused while errors or duplicates are unresolved)
and R2.4 (after an import, only with ``confirm_reimport=True``: the mapping version is
bumped, staged records are cleared and linked users' record hashes are reset, so the
next run imports every record again under the new mapping).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from connectkit.errors import MappingError, StateError
from connectkit.integrations import (
    Environment,
    IntegrationRow,
    get,
    now,
    record_event,
    run_in_progress,
    set_health,
)
from connectkit.models import MISGroup, Role
from connectkit.store.tables import (
    areas,
    integrations,
    sites,
    staged_records,
    sync_runs,
    user_types,
    users,
)
from connectkit.sync import runs
from connectkit.sync.mapper import DIRECTORY_FIELDS, POPULATION

ROLE_OF = {name: role for role, name in POPULATION.items()}
_KEYS = {"students": {"fields", "groups", "area"}, "staff": {"fields", "groups"}}


@dataclass(frozen=True)
class Directory:
    """What the directory holds that a mapping refers to."""

    user_types: frozenset[str]
    areas: frozenset[str]


@dataclass(frozen=True)
class MappingCheck:
    """A mapping that passed: normalised, plus what saving it would create and warnings."""

    mapping: dict[str, Any]
    create_types: tuple[str, ...] = ()
    create_area: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass
class _Checker:
    connector: str
    offered: Mapping[Role, Sequence[str]]
    groups: Mapping[str, MISGroup] | None
    directory: Directory
    create_missing: bool
    issues: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing_types: dict[str, None] = field(default_factory=dict)
    type_of_group: dict[str, tuple[str, str]] = field(default_factory=dict)

    def population(self, name: str, section: Any) -> dict[str, Any]:
        where = f"mapping.{name}"
        if not isinstance(section, Mapping):
            self.issues.append(f"{where}: must be a table, not {type(section).__name__}")
            return {}
        for key in sorted(set(section) - _KEYS[name]):
            known = ", ".join(sorted(_KEYS[name]))
            self.issues.append(f"{where}.{key}: unknown key (known: {known})")
        role = ROLE_OF[name]
        out: dict[str, Any] = {
            "fields": self.fields(where, role, section.get("fields") or {}),
            "groups": self.group_map(where, role, section.get("groups") or {}),
        }
        if name == "students" and section.get("area") is not None:
            out["area"] = section["area"]
        if out["groups"] and not {"first_name", "last_name"} <= set(out["fields"].values()):
            self.warnings.append(
                f"{where}.fields: first_name and last_name are not both mapped; every "
                f"{name} record will be an error (required field empty)"
            )
        if out["fields"] and not out["groups"]:
            self.warnings.append(f"{where}.groups: no group is mapped; no {name} are imported")
        return out

    def fields(self, where: str, role: Role, table: Any) -> dict[str, str]:
        if not isinstance(table, Mapping):
            self.issues.append(f"{where}.fields: must be a table of MIS field -> directory field")
            return {}
        offered = tuple(self.offered.get(role) or ())
        by_target: dict[str, list[str]] = {}
        for path, target in table.items():
            at = f'{where}.fields."{path}"'
            if target not in DIRECTORY_FIELDS:
                self.issues.append(
                    f"{at}: {target!r} is not a directory field "
                    f"(one of {', '.join(DIRECTORY_FIELDS)})"
                )
                continue
            if not path or any(not part for part in str(path).split(".")):
                self.issues.append(f"{at}: {path!r} is not a field path")
                continue
            if offered and path not in offered:
                self.issues.append(
                    f"{at}: connector {self.connector!r} offers no field {path!r} for "
                    f"{POPULATION[role]} (offered: {', '.join(offered)})"
                )
                continue
            by_target.setdefault(target, []).append(str(path))
        for target, paths in by_target.items():
            if len(paths) > 1:
                both = " and ".join(repr(p) for p in paths)
                self.issues.append(
                    f"{where}.fields: MIS fields {both} both map onto directory field "
                    f"{target!r}; map one MIS field per directory field"
                )
        return {paths[0]: target for target, paths in by_target.items() if len(paths) == 1}

    def group_map(self, where: str, role: Role, table: Any) -> dict[str, str]:
        if not isinstance(table, Mapping):
            self.issues.append(f"{where}.groups: must be a table of MIS group -> user type")
            return {}
        out: dict[str, str] = {}
        for group_id, type_name in table.items():
            at = f'{where}.groups."{group_id}"'
            if not isinstance(type_name, str) or not type_name.strip():
                self.issues.append(
                    f"{at}: must name exactly one user type, got {type_name!r} "
                    "(a group maps to at most one user type)"
                )
                continue
            if self.groups is not None and group_id not in self.groups:
                self.issues.append(f"{at}: the MIS has no group {group_id!r}")
                continue
            if self.groups is not None and self.groups[group_id].role != role:
                self.warnings.append(
                    f"{at}: {group_id!r} is a {self.groups[group_id].role} group, "
                    f"mapped for {POPULATION[role]}"
                )
            self.one_type(at, str(group_id), type_name, POPULATION[role])
            out[str(group_id)] = type_name
        return out

    def one_type(self, at: str, group_id: str, type_name: str, population: str) -> None:
        earlier = self.type_of_group.get(group_id)
        if earlier is not None and earlier[0] != type_name:
            self.issues.append(
                f"{at}: group {group_id!r} maps to user type {type_name!r} for {population} "
                f"and to {earlier[0]!r} for {earlier[1]}; a group maps to at most one user type"
            )
        self.type_of_group.setdefault(group_id, (type_name, population))
        if type_name not in self.directory.user_types:
            if self.create_missing:
                self.missing_types[type_name] = None
            else:
                self.issues.append(
                    f"{at}: user type {type_name!r} does not exist in the directory "
                    "(create it first, or confirm creating it)"
                )


def check_mapping(
    mapping: Mapping[str, Any],
    *,
    connector: str,
    offered: Mapping[Role, Sequence[str]],
    groups: Iterable[MISGroup] | None,
    directory: Directory,
    create_missing: bool = False,
) -> MappingCheck:
    """Check ``mapping`` against the connector's offer and the directory; see module doc.

    ``offered`` are the field paths per role (an empty list: any path is accepted);
    ``groups`` the MIS groups (None: group ids are not checked). Raises MappingError
    listing every problem; returns the normalised mapping otherwise.
    """
    known = {g.id: g for g in groups} if groups is not None else None
    checker = _Checker(connector, offered, known, directory, create_missing)
    if not isinstance(mapping, Mapping):
        raise MappingError([f"mapping: must be a table, not {type(mapping).__name__}"])
    out: dict[str, Any] = {}
    for name in mapping:
        if name not in _KEYS:
            checker.issues.append(f"mapping.{name}: unknown population (students, staff)")
    for name in _KEYS:
        if name in mapping:
            out[name] = checker.population(name, mapping[name])
    area = out.get("students", {}).get("area")
    create_area = None
    if area is not None:
        if not isinstance(area, str) or not area.strip():
            checker.issues.append(f"mapping.students.area: {area!r} is not an area name")
        elif area not in directory.areas:
            if create_missing:
                create_area = area
            else:
                checker.issues.append(
                    f"mapping.students.area: sign-in area {area!r} does not exist in the "
                    "integration's sites (create it first, or confirm creating it)"
                )
    if checker.issues:
        raise MappingError(checker.issues)
    return MappingCheck(out, tuple(checker.missing_types), create_area, tuple(checker.warnings))


# --- against the store and the connector ------------------------------------------------


def directory_of(conn: Connection, row: IntegrationRow) -> Directory:
    """The user types of the directory and the areas of the integration's sites."""
    types = frozenset(conn.execute(select(user_types.c.name)).scalars())
    site_names = list(row.settings.get("sites") or [])
    query = select(areas.c.name).join(sites, sites.c.id == areas.c.site_id)
    found = frozenset(conn.execute(query.where(sites.c.name.in_(site_names))).scalars())
    return Directory(types, found)


def validate_mapping(
    conn: Connection,
    env: Environment,
    row: IntegrationRow,
    mapping: Mapping[str, Any],
    *,
    create_missing: bool = False,
) -> MappingCheck:
    """:func:`check_mapping` with what the integration's connector reports (its field
    offer and its groups, fetched live) and what the directory holds."""
    plugin = env.connector(row.connector)
    groups = list(plugin.fetch_groups(env.context_for(row)))
    return check_mapping(
        mapping,
        connector=row.connector,
        offered=plugin.info.fields,
        groups=groups,
        directory=directory_of(conn, row),
        create_missing=create_missing,
    )


@dataclass(frozen=True)
class Unresolved:
    """How many staged records still wait in the errors and duplicates lists."""

    errors: int
    duplicates: int

    def __bool__(self) -> bool:
        return bool(self.errors or self.duplicates)

    def __str__(self) -> str:
        return f"{self.errors} error(s) and {self.duplicates} duplicate(s)"


def unresolved(conn: Connection, integration_id: int) -> Unresolved:
    """Counts of the errors and duplicates lists (skipped records are resolved)."""
    from connectkit.sync.review import counts

    found = counts(conn, integration_id)
    return Unresolved(found["error"], found["duplicate"])


def has_imported(conn: Connection, integration_id: int) -> bool:
    """True once any record was imported: a run exists, a record is staged or linked."""
    for table, column in (
        (sync_runs, sync_runs.c.integration_id),
        (staged_records, staged_records.c.integration_id),
        (users, users.c.integration_id),
    ):
        query = select(column).select_from(table).where(column == integration_id).limit(1)
        if conn.execute(query).first() is not None:
            return True
    return False


@dataclass(frozen=True)
class MappingChange:
    """What saving a new mapping means: ``reimport`` needs the admin's confirmation."""

    check: MappingCheck
    changed: bool
    reimport: bool

    @property
    def warning(self) -> str | None:
        if not self.reimport:
            return None
        return (
            "records were already imported under the current mapping: if you go ahead, "
            "every record will be imported again under the new mapping"
        )


def plan_mapping_change(
    conn: Connection,
    env: Environment,
    integration: str | int,
    mapping: Mapping[str, Any],
    *,
    create_missing: bool = False,
) -> MappingChange:
    """Validate a new mapping and say whether it changes anything and forces a re-import.

    Raises StateError while errors or duplicates are unresolved (R2.5) or a run is in
    progress, MappingError when the mapping is invalid.
    """
    row = get(conn, integration)
    check = validate_mapping(conn, env, row, mapping, create_missing=create_missing)
    changed = check.mapping != row.mapping
    if changed:
        open_items = unresolved(conn, row.id)
        if open_items:
            raise StateError(
                f"the mapping of integration {row.name!r} cannot be edited while {open_items} "
                "are unresolved; fix or skip them first (connectkit review)"
            )
        if run_in_progress(conn, row.id):
            raise StateError(f"integration {row.name!r} has a sync run in progress; try later")
    return MappingChange(check, changed, changed and has_imported(conn, row.id))


def _create(conn: Connection, row: IntegrationRow, check: MappingCheck) -> None:
    if check.create_types:
        conn.execute(insert(user_types), [{"name": name} for name in check.create_types])
    if check.create_area is not None:
        first_site = row.settings["sites"][0]
        site_id = conn.execute(select(sites.c.id).where(sites.c.name == first_site)).scalar_one()
        conn.execute(insert(areas).values(site_id=site_id, name=check.create_area))


def _supersede_runs(conn: Connection, row: IntegrationRow, actor: str) -> None:
    """Close the integration's open run (waiting for review or approval, or interrupted):
    it staged records under the old mapping, so the next run starts afresh. A run held by
    the mass-change guard releases the integration's on-hold health."""
    query = select(sync_runs.c.id, sync_runs.c.status).where(
        sync_runs.c.integration_id == row.id, sync_runs.c.status.in_(runs.OPEN)
    )
    for run_id, status in conn.execute(query).all():
        conn.execute(
            update(sync_runs).where(sync_runs.c.id == run_id).values(
                status=runs.ABANDONED, phase="done", finished_at=now(),
                lease_owner=None, lease_expires_at=None,
                error="superseded: the mapping changed, everything is re-imported",
            )
        )
        if status == runs.ON_HOLD:
            set_health(conn, row.id, "ok", cause=f"run {run_id} superseded by a mapping change",
                       actor=actor)


def save_mapping(
    conn: Connection,
    env: Environment,
    integration: str | int,
    mapping: Mapping[str, Any],
    *,
    actor: str,
    confirm_reimport: bool = False,
    create_missing: bool = False,
) -> MappingChange:
    """Validate and store a new mapping (R2), enforcing R2.4 and R2.5.

    After an import, StateError unless ``confirm_reimport``; with it, the mapping
    version is bumped, the open run (if any) is closed as superseded, every staged
    record of the integration is cleared and linked users' record hashes are reset, so
    the next run re-imports everything (a Draft integration starts its first sync
    again). Logged as a ``mapping`` event (from / to version). An unchanged mapping
    writes nothing.
    """
    change = plan_mapping_change(conn, env, integration, mapping, create_missing=create_missing)
    if not change.changed:
        return change
    row = get(conn, integration, for_update=True)
    if change.reimport and not confirm_reimport:
        raise StateError(f"{change.warning}; confirm to save the mapping of {row.name!r}")
    _create(conn, row, change.check)
    version = row.mapping_version + 1
    conn.execute(
        update(integrations)
        .where(integrations.c.id == row.id)
        .values(mapping=change.check.mapping, mapping_version=version, updated_at=now())
    )
    if change.reimport:
        _supersede_runs(conn, row, actor)
        conn.execute(delete(staged_records).where(staged_records.c.integration_id == row.id))
        conn.execute(
            update(users)
            .where(users.c.integration_id == row.id)
            .values(record_hash=None, source_hash=None)
        )
    cause = "mapping changed" + ("; everything will be re-imported" if change.reimport else "")
    record_event(conn, row.id, "mapping", str(row.mapping_version), str(version),
                 cause=cause, actor=actor)
    return change
