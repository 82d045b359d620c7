"""The store's tables (SQLAlchemy Core), one metadata for SQLite and PostgreSQL.

Groups: the **directory** (users and what they refer to), **integrations** (settings,
mapping, status history, access state), **runs** (sync runs, leases, checkpoints, log
lines), **staging** (records waiting in errors / duplicates / ready, admin overrides and
skips), and **write-back** (attendance codes, outbox). Alembic migrations under
``store/migrations`` must always match this module (a test compares them).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


def _ts(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


# --- directory -----------------------------------------------------------------------

user_types = Table(
    "user_types",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False, unique=True),
)

sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False, unique=True),
)

areas = Table(
    "areas",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(120), nullable=False),
    UniqueConstraint("site_id", "name"),
)

integrations = Table(
    "integrations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("connector", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("health", String(16), nullable=False, default="ok"),
    Column("connector_config", JSON, nullable=False),
    Column("settings", JSON, nullable=False),
    Column("mapping", JSON, nullable=False),
    Column("mapping_version", Integer, nullable=False, default=1),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    _ts("last_full_sync_at"),
    _ts("last_delta_sync_at"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("first_name", String(200), nullable=False),
    Column("last_name", String(200), nullable=False),
    Column("email", String(320)),
    Column("phone", String(32)),
    Column("user_type_id", ForeignKey("user_types.id", ondelete="SET NULL")),
    Column("site_id", ForeignKey("sites.id", ondelete="SET NULL")),
    Column("area_id", ForeignKey("areas.id", ondelete="SET NULL")),
    Column("active", Boolean, nullable=False, default=True),
    Column("integration_id", ForeignKey("integrations.id", ondelete="SET NULL")),
    Column("mis_id", String(128)),
    Column("person_id", String(128)),
    Column("mis_code", String(128)),
    Column("photo_hash", String(64)),
    Column("record_hash", String(64)),
    Column("source_hash", String(64)),  # digest of the mapped MIS input last written here
    Column("name_key", String(400)),
    Column("email_key", String(320)),
    Column("phone_key", String(32)),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    UniqueConstraint("integration_id", "mis_id"),
    Index(None, "name_key"),
    Index(None, "integration_id", "person_id"),
    # covers the per-run count of an integration's active users by type (mass-change guard)
    Index(None, "integration_id", "user_type_id", "active"),
)

photos = Table(
    "photos",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    _ts("updated_at", nullable=False),
)

scans = Table(
    "scans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _ts("occurred_at", nullable=False),
    Column("direction", String(3), nullable=False),
    Column("site_id", ForeignKey("sites.id", ondelete="SET NULL")),
    Column("method", String(32)),
    Column("attendance_code", String(8)),
)

# --- integrations: history and access ----------------------------------------------

integration_events = Table(
    "integration_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("integration_id", ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    _ts("at", nullable=False),
    Column("kind", String(16), nullable=False),  # status | health
    Column("from_value", String(16)),
    Column("to_value", String(16), nullable=False),
    Column("cause", Text, nullable=False),
    Column("actor", String(120), nullable=False),
    Index(None, "integration_id", "at"),
)

access_state = Table(
    "access_state",
    metadata,
    Column("integration_id", ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("detail", Text),
    _ts("checked_at", nullable=False),
)

# --- runs ------------------------------------------------------------------------------

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("integration_id", ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    Column("phase", String(24), nullable=False),
    Column("checkpoint", JSON, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("plan_summary", JSON),
    Column("lease_owner", String(120)),
    _ts("lease_expires_at"),
    _ts("started_at", nullable=False),
    _ts("finished_at"),
    Column("error", Text),
    Index(None, "integration_id", "id"),
)

run_log = Table(
    "run_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("sync_runs.id", ondelete="CASCADE"), nullable=False),
    Column("mis_id", String(128)),
    Column("user_id", Integer),
    Column("action", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("detail", JSON),
    Index(None, "run_id", "action"),
    # the run's lines in id order (commit reads them in batches from there): never a
    # scan of the lines of earlier runs, which the log keeps
    Index(None, "run_id", "id"),
)

# --- staging ---------------------------------------------------------------------------

staged_records = Table(
    "staged_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("integration_id", ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    Column("run_id", ForeignKey("sync_runs.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(8), nullable=False),
    Column("mis_id", String(128), nullable=False),
    Column("person_id", String(128)),
    Column("list", String(10), nullable=False),  # error | duplicate | ready
    Column("fields", JSON, nullable=False),
    Column("issues", JSON),
    Column("match_user_id", Integer),
    Column("match_key", String(16)),
    Column("record_hash", String(64), nullable=False),
    Column("source_hash", String(64)),
    # the duplicate-match keys staging computed for a clean record (see sync/keys.py),
    # carried to its create line; NULL when not computed or the fields were edited since
    Column("name_key", String(400)),
    Column("email_key", String(320)),
    Column("phone_key", String(32)),
    UniqueConstraint("integration_id", "mis_id"),
    Index(None, "integration_id", "list"),
)

seen_unchanged = Table(
    "seen_unchanged",
    metadata,
    # records a run found unchanged at import (their linked user already holds exactly
    # this input): planned as ``unchanged`` without being staged; dropped when the run ends
    Column("run_id", ForeignKey("sync_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("mis_id", String(128), primary_key=True),
    Column("user_id", Integer, nullable=False),
)

overrides = Table(
    "overrides",
    metadata,
    Column("integration_id", ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True),
    Column("mis_id", String(128), primary_key=True),
    Column("fields", JSON, nullable=False),
    _ts("updated_at", nullable=False),
)

skips = Table(
    "skips",
    metadata,
    Column("integration_id", ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True),
    Column("mis_id", String(128), primary_key=True),
    _ts("created_at", nullable=False),
)

review_marks = Table(
    "review_marks",
    metadata,
    # records an admin's review changed (edit, merge, skip, unskip) since the
    # integration's last plan: a re-plan of the same run plans these again (sync/revisions.py)
    Column("integration_id", ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True),
    Column("mis_id", String(128), primary_key=True),
)

# --- write-back ------------------------------------------------------------------------

attendance_codes = Table(
    "attendance_codes",
    metadata,
    Column("integration_id", ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True),
    Column("code", String(8), primary_key=True),
    Column("description", Text, nullable=False),
    Column("meaning", String(64)),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("integration_id", ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    Column("mark_key", String(200), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),  # awaiting_approval|queued|sent|done|failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("remote_id", String(128)),
    Column("last_error", Text),
    _ts("created_at", nullable=False),
    _ts("sent_at"),
    UniqueConstraint("integration_id", "mark_key"),
)
