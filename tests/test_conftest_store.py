from __future__ import annotations

from sqlalchemy import Engine, inspect


def test_store_engine_has_every_table(store_engine: Engine) -> None:
    names = set(inspect(store_engine).get_table_names())
    assert {"users", "integrations", "sync_runs", "staged_records", "outbox"} <= names
