"""Directory reference data: user types, sites and sign-in areas.

Every function takes an open SQLAlchemy :class:`~sqlalchemy.Connection` (the caller owns
the transaction). Names are trimmed; an empty name, or one longer than 120 characters,
is refused with :class:`~connectkit.errors.RuleError`, as is adding a name that exists.
``ensure_*`` functions are get-or-create, safe under concurrent writers (the insert
skips on conflict, then the row is read back).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from connectkit.errors import RuleError
from connectkit.store.tables import areas, sites, user_types

MAX_NAME = 120


@dataclass(frozen=True)
class UserType:
    id: int
    name: str


@dataclass(frozen=True)
class Site:
    id: int
    name: str


@dataclass(frozen=True)
class Area:
    id: int
    name: str
    site_id: int
    site: str


def clean_name(name: str, what: str) -> str:
    """``name`` trimmed; RuleError when empty or too long (``what`` names the kind)."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise RuleError(f"{what} name must not be empty")
    if len(cleaned) > MAX_NAME:
        raise RuleError(f"{what} name {cleaned[:40]!r}... is longer than {MAX_NAME} characters")
    return cleaned


def _insert_ignore(conn: Connection, table: Table, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


# --- user types ----------------------------------------------------------------------


def list_user_types(conn: Connection) -> list[UserType]:
    """Every user type, by name."""
    return [UserType(id=i, name=n) for i, n in _names(conn, user_types)]


def add_user_type(conn: Connection, name: str) -> UserType:
    """Create user type ``name``; RuleError if it exists."""
    name = clean_name(name, "user type")
    return UserType(id=_add_named(conn, user_types, name, "user type"), name=name)


def ensure_user_types(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    """Get-or-create every user type in ``names``; returns name -> id."""
    return _ensure(conn, user_types, [clean_name(n, "user type") for n in names])


# --- sites -------------------------------------------------------------------------


def list_sites(conn: Connection) -> list[Site]:
    """Every site, by name."""
    return [Site(id=i, name=n) for i, n in _names(conn, sites)]


def add_site(conn: Connection, name: str) -> Site:
    """Create site ``name``; RuleError if it exists."""
    name = clean_name(name, "site")
    return Site(id=_add_named(conn, sites, name, "site"), name=name)


def ensure_sites(conn: Connection, names: Iterable[str]) -> dict[str, int]:
    """Get-or-create every site in ``names``; returns name -> id."""
    return _ensure(conn, sites, [clean_name(n, "site") for n in names])


def site_id(conn: Connection, name: str) -> int:
    """The id of site ``name``; RuleError naming the known sites when it does not exist."""
    found = _find(conn, sites, clean_name(name, "site"))
    if found is None:
        known = ", ".join(repr(s.name) for s in list_sites(conn)) or "none"
        raise RuleError(f"no site named {name!r} (sites: {known}); add it first")
    return found


# --- areas -------------------------------------------------------------------------


def list_areas(conn: Connection, site: str | None = None) -> list[Area]:
    """Every sign-in area (of ``site`` only, when given), by site then name."""
    query = (
        select(areas.c.id, areas.c.name, areas.c.site_id, sites.c.name.label("site"))
        .join(sites, sites.c.id == areas.c.site_id)
        .order_by(sites.c.name, areas.c.name)
    )
    if site is not None:
        query = query.where(areas.c.site_id == site_id(conn, site))
    return [Area(id=r.id, name=r.name, site_id=r.site_id, site=r.site) for r in conn.execute(query)]


def add_area(conn: Connection, name: str, site: str) -> Area:
    """Create area ``name`` in the existing ``site``; RuleError if either rule fails."""
    name = clean_name(name, "area")
    sid = site_id(conn, site)
    if _find(conn, areas, name, site_id=sid) is not None:
        raise RuleError(f"area {name!r} already exists at site {site!r}")
    new_id = conn.execute(areas.insert().values(name=name, site_id=sid)).inserted_primary_key
    assert new_id is not None
    return Area(id=int(new_id[0]), name=name, site_id=sid, site=clean_name(site, "site"))


def ensure_area(conn: Connection, name: str, site: str) -> int:
    """Get-or-create area ``name`` at ``site`` (the site is created too); returns its id."""
    name = clean_name(name, "area")
    sid = ensure_sites(conn, [site])[clean_name(site, "site")]
    _insert_ignore(conn, areas, [{"name": name, "site_id": sid}])
    found = _find(conn, areas, name, site_id=sid)
    assert found is not None
    return found


# --- shared --------------------------------------------------------------------------


def _names(conn: Connection, table: Table) -> list[tuple[int, str]]:
    """``(id, name)`` of every row of a name table, by name."""
    rows = conn.execute(select(table.c.id, table.c.name).order_by(table.c.name))
    return [(int(r.id), str(r.name)) for r in rows]


def _add_named(conn: Connection, table: Table, name: str, what: str) -> int:
    """Insert a row named ``name`` (already clean); RuleError if one exists. Returns its id."""
    if _find(conn, table, name) is not None:
        raise RuleError(f"{what} {name!r} already exists")
    new_id = conn.execute(table.insert().values(name=name)).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def _find(conn: Connection, table: Table, name: str, site_id: int | None = None) -> int | None:
    query = select(table.c.id).where(table.c.name == name)
    if site_id is not None:
        query = query.where(table.c.site_id == site_id)
    found = conn.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


def _ensure(conn: Connection, table: Table, names: list[str]) -> dict[str, int]:
    wanted = sorted(set(names))
    if not wanted:
        return {}
    _insert_ignore(conn, table, [{"name": n} for n in wanted])
    rows = conn.execute(select(table.c.id, table.c.name).where(table.c.name.in_(wanted)))
    return {r.name: int(r.id) for r in rows}
