"""The store: SQLAlchemy 2 tables, engine factory and Alembic migrations."""
