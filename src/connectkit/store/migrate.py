"""Run the store's Alembic migrations from code: no ``alembic.ini`` needed on disk.

:func:`upgrade` brings any store URL to the newest revision (creating an empty SQLite
file if needed); :func:`current` and :func:`head` report revisions. On PostgreSQL an
advisory lock makes concurrent upgrades from several workers take turns.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from connectkit.store.engine import is_postgres, make_engine

_PG_LOCK_KEY = 0x636B6D67  # "ckmg": connectkit migrations


def migrations_dir() -> Path:
    """The folder holding ``env.py`` and ``versions/``."""
    return Path(str(resources.files("connectkit.store").joinpath("migrations")))


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """An in-memory Alembic config pointing at connectkit's migrations."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision id shipped with this connectkit."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None, "no migrations shipped"
    return revision


def upgrade(url: str, revision: str = "head") -> str:
    """Migrate the store at ``url`` to ``revision`` (default newest); returns the revision
    it is at afterwards. Safe to run again: an up-to-date store is left untouched."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if is_postgres(engine):
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            command.upgrade(alembic_config(connection=conn), revision)
        return current(url) or "base"
    finally:
        engine.dispose()


def current(url: str) -> str | None:
    """The revision the store at ``url`` is at (None: never migrated)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
