"""Migrating an empty store gives exactly the schema of connectkit.store.tables."""

from __future__ import annotations

from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from connectkit.store import migrate
from connectkit.store.engine import make_engine
from connectkit.store.tables import metadata

ROOT = Path(__file__).resolve().parents[2]


def _diffs(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return [
                d for d in compare_metadata(context, metadata) if "alembic_version" not in str(d)
            ]
    finally:
        engine.dispose()


def test_upgrade_empty_store_matches_metadata(store_url: str) -> None:
    assert migrate.current(store_url) is None
    assert migrate.upgrade(store_url) == migrate.head()
    assert _diffs(store_url) == []
    engine = make_engine(store_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(metadata.tables) <= tables
    assert migrate.upgrade(store_url) == migrate.head()  # re-running is a no-op


def test_migration_file_is_generated_from_current_metadata() -> None:
    """Fails when tables.py changed without running scripts/regen-migration."""
    loader = SourceFileLoader("regen_migration", str(ROOT / "scripts/regen-migration"))
    spec = spec_from_loader("regen_migration", loader)
    assert spec is not None
    script = module_from_spec(spec)
    loader.exec_module(script)
    assert script.TARGET.read_text("utf-8") == script.render(), (
        "0001_initial.py is out of date: run scripts/regen-migration"
    )


def test_migrations_ship_inside_the_package() -> None:
    folder = migrate.migrations_dir()
    assert (folder / "env.py").is_file()
    assert (folder / "script.py.mako").is_file()
    assert (folder / "versions" / "0001_initial.py").is_file()
