"""Alembic environment and revisions for the store (run through connectkit.store.migrate)."""
