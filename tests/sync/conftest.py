"""Fixtures for the sync-engine tests: a store (SQLite and PostgreSQL), the in-memory
fake connector, a mocked clock, and one integration mapped to it.

``sync_engine`` runs every test on a fresh SQLite file and on PostgreSQL. To keep the
suite fast, the PostgreSQL side creates ONE database per test session (per xdist
worker) and empties every table (``DELETE``, cheaper than TRUNCATE on tiny tables) before each test,
instead of creating a database per test. Like the shared fixtures, it fails (not
skips) when PostgreSQL is unreachable and ``CI`` is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectkit import integrations as lifecycle
from connectkit.models import Capabilities, Role
from connectkit.plugins.facade import Hooks
from connectkit.plugins.manager import new_manager, register
from connectkit.store.engine import make_engine
from connectkit.store.tables import (
    integrations,
    metadata,
    run_log,
    staged_records,
    user_types,
    users,
)
from connectkit.sync.runtime import Runtime
from connectkit.testing import factories
from connectkit.testing.clock import ManualClock
from connectkit.testing.fake import ALL_CAPABILITIES, FakeConnector

TOKEN = "fake-token-5f3a9c"
NAME = "Sample Academy"
MAPPING: dict[str, Any] = {
    "students": {
        "area": "Student Entrance",
        "fields": {
            "first_name": "first_name",
            "last_name": "last_name",
            "emails.primary": "email",
        },
        "groups": {**{f"yr-{n}": "Student" for n in range(1, 6)}, "yr-6": "Sixth Form"},
    },
    "staff": {
        "fields": {"first_name": "first_name", "last_name": "last_name", "emails.primary": "email"},
        "groups": {"st-teaching": "Staff", "st-support": "Staff", "st-office": "Office"},
    },
}
SETTINGS: dict[str, Any] = {"sites": ["Main Site"], "deletion": "deactivate"}


Clock = ManualClock


@dataclass
class World:
    """One integration ``NAME`` on the fake connector, and ways to look at the store."""

    engine: sa.Engine
    fake: FakeConnector
    clock: Clock
    rt: Runtime
    integration_id: int

    def runtime(self, **changes: Any) -> Runtime:
        from dataclasses import replace

        return replace(self.rt, **changes)

    def add(self, role: Role, count: int, start: int = 0, seed: int = 0) -> None:
        self.fake.add_people(role, factories.iter_people(role, count, start=start, seed=seed))

    def settings(self, **changes: Any) -> None:
        with self.engine.begin() as conn:
            lifecycle.update_settings(conn, self.integration_id, changes, actor="test")

    def directory(self) -> list[dict[str, Any]]:
        """Every users row as comparable values, by MIS id then name."""
        query = (
            sa.select(
                users.c.mis_id, users.c.first_name, users.c.last_name, users.c.email,
                users.c.phone, users.c.active, users.c.integration_id, users.c.person_id,
                user_types.c.name.label("user_type"), users.c.record_hash,
            )
            .select_from(users.outerjoin(user_types, user_types.c.id == users.c.user_type_id))
            .order_by(users.c.mis_id, users.c.last_name, users.c.first_name)
        )
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def users_raw(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(users).order_by(users.c.id)).mappings()]

    def staged(self, listed: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(staged_records).order_by(staged_records.c.mis_id)
        if listed:
            query = query.where(staged_records.c.list == listed)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def lines(self, run_id: int) -> list[dict[str, Any]]:
        query = sa.select(run_log).where(run_log.c.run_id == run_id).order_by(run_log.c.id)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def status(self) -> tuple[str, str]:
        with self.engine.connect() as conn:
            row = lifecycle.get(conn, self.integration_id)
        return str(row.status), str(row.health)

    def add_directory_user(self, first: str, last: str, email: str | None = None,
                           phone: str | None = None) -> int:
        """A directory user created by hand (not linked to any integration)."""
        from connectkit.sync.keys import user_keys

        fields = {"first_name": first, "last_name": last, "email": email, "phone": phone}
        with self.engine.begin() as conn:
            return int(conn.execute(
                sa.insert(users).values(
                    **fields, **user_keys(fields), active=True,
                    created_at=self.clock(), updated_at=self.clock(),
                ).returning(users.c.id)
            ).scalar_one())


def build_world(engine: sa.Engine, state: Path, *, page_size: int = 7,
                mapping: dict[str, Any] | None = None,
                settings: dict[str, Any] | None = None,
                capabilities: Capabilities = ALL_CAPABILITIES) -> World:
    clock = ManualClock()
    fake = FakeConnector(page_size=page_size, clock=clock, capabilities=capabilities)
    fake.add_groups(factories.school_groups())
    pm = new_manager()
    register(pm, "fake", fake)
    env = lifecycle.Environment(Hooks(pm), state, environ={"FAKE_TOKEN": TOKEN})
    with engine.begin() as conn:
        row, _school = lifecycle.create(
            conn, env, name=NAME, connector="fake",
            config={"school": "s1", "token": "${FAKE_TOKEN}"},
            settings=settings or SETTINGS, actor="test",
        )
        conn.execute(
            sa.update(integrations).where(integrations.c.id == row.id)
            .values(mapping=mapping or MAPPING)
        )
    rt = Runtime(engine=engine, env=env, clock=clock, actor="test", worker="w1", batch=25)
    return World(engine, fake, clock, rt, row.id)


PG_ADMIN_URL = os.environ.get(
    "CONNECTKIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def sync_pg_engine() -> Iterator[sa.Engine]:
    """One PostgreSQL database for this session's sync tests, dropped at the end."""
    name = f"ck_sync_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required when CI is set: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {type(exc).__name__}")
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def sync_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty store with every table, on SQLite and on PostgreSQL."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        engine: sa.Engine = request.getfixturevalue("sync_pg_engine")
        with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
        yield engine
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def world(sync_engine: sa.Engine, tmp_path: Path) -> Iterator[World]:
    return build_world(sync_engine, tmp_path / "state")


def only(seq: Sequence[Any]) -> Any:
    assert len(seq) == 1, seq
    return seq[0]
