"""Shared fixtures: a fresh store on SQLite and on PostgreSQL.

``store_url`` / ``store_engine`` are parametrised over both back ends. The PostgreSQL
variant creates its own database and drops it afterwards. When PostgreSQL is not
reachable the test skips locally but FAILS when the ``CI`` environment variable is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from connectkit.store.engine import make_engine
from connectkit.store.tables import metadata

PG_ADMIN_URL = os.environ.get(
    "CONNECTKIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_admin() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required when CI is set: {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL of a brand-new PostgreSQL database, dropped after the test."""
    name = f"ck_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # server down, driver missing
        admin.dispose()
        _pg_unavailable(f"{type(exc).__name__}: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty store URL on each back end (no tables yet)."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
def store_engine(store_url: str) -> Iterator[Engine]:
    """An engine on a fresh store with every table created from the metadata."""
    engine = make_engine(store_url)
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()
