"""Sync-run rows: creation under a per-integration lock, leases, checkpoints.

A run is one ``sync_runs`` row. Its ``phase`` says what comes next (``import`` ->
``plan`` -> ``review`` / ``hold`` -> ``commit`` -> ``done``) and its ``checkpoint`` JSON
what is already done (the per-role cursor of the last staged page, flags). A worker
owns a run only while it holds the lease (``lease_owner`` / ``lease_expires_at``);
every write of run progress is fenced on the lease (``WHERE lease_owner = me``), so a
worker whose lease was taken over fails its next write instead of doubling work.
Taking a lease is one atomic ``UPDATE ... WHERE lease expired`` on both back ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from connectkit.errors import LeaseHeldError, StateError
from connectkit.store.tables import integrations, seen_unchanged, sync_runs
from connectkit.sync import bulk

RUNNING = "running"
"""Being worked on, or interrupted (lease expired or released with an error)."""
AWAITING_REVIEW = "awaiting_review"
"""First sync imported; waits for review and ``confirm``."""
ON_HOLD = "on_hold"
"""Held by the mass-change guard; waits for ``approve`` / ``reject``."""
COMMITTED = "committed"
PLANNED = "planned"
"""A dry run (``plan``) that finished: nothing was written to the directory."""
REJECTED = "rejected"
ABANDONED = "abandoned"
"""An interrupted ongoing run superseded by a newer run."""
OPEN = (RUNNING, AWAITING_REVIEW, ON_HOLD)


def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@dataclass(frozen=True)
class RunRow:
    """One ``sync_runs`` row, typed."""

    id: int
    integration_id: int
    kind: str
    status: str
    phase: str
    checkpoint: dict[str, Any]
    counts: dict[str, int]
    plan_summary: dict[str, Any] | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    started_at: datetime
    finished_at: datetime | None
    error: str | None

    @classmethod
    def from_row(cls, row: sa.RowMapping) -> RunRow:
        return cls(
            id=row["id"],
            integration_id=row["integration_id"],
            kind=row["kind"],
            status=row["status"],
            phase=row["phase"],
            checkpoint=dict(row["checkpoint"] or {}),
            counts=dict(row["counts"] or {}),
            plan_summary=row["plan_summary"],
            lease_owner=row["lease_owner"],
            lease_expires_at=aware(row["lease_expires_at"]),
            started_at=aware(row["started_at"]) or datetime.now(UTC),
            finished_at=aware(row["finished_at"]),
            error=row["error"],
        )

    def lease_live(self, now: datetime) -> bool:
        """True while some worker holds an unexpired lease."""
        return bool(self.lease_owner and self.lease_expires_at and self.lease_expires_at > now)


def load(conn: sa.Connection, run_id: int) -> RunRow:
    """The run ``run_id``; StateError when there is none."""
    row = conn.execute(sa.select(sync_runs).where(sync_runs.c.id == run_id)).mappings().first()
    if row is None:
        raise StateError(f"there is no sync run {run_id}")
    return RunRow.from_row(row)


def open_run(conn: sa.Connection, integration_id: int) -> RunRow | None:
    """The integration's unfinished run (running / awaiting review / on hold), if any."""
    row = (
        conn.execute(
            sa.select(sync_runs)
            .where(sync_runs.c.integration_id == integration_id)
            .where(sync_runs.c.status.in_(OPEN))
            .order_by(sync_runs.c.id.desc())
        )
        .mappings()
        .first()
    )
    return RunRow.from_row(row) if row is not None else None


def lock_integration(conn: sa.Connection, integration_id: int) -> None:
    """Serialise run creation per integration: a no-op UPDATE takes the row lock on
    PostgreSQL and the write lock on SQLite, until the transaction ends."""
    conn.execute(
        sa.update(integrations)
        .where(integrations.c.id == integration_id)
        .values(updated_at=integrations.c.updated_at)
    )


def create(
    conn: sa.Connection,
    integration_id: int,
    kind: str,
    checkpoint: dict[str, Any],
    *,
    worker: str,
    now: datetime,
    lease_seconds: float,
) -> int:
    """Insert a new run in phase ``import``, leased to ``worker``; returns its id.

    The caller must hold :func:`lock_integration` and have checked :func:`open_run`.
    Fast-path notes (``seen_unchanged``) left by the integration's finished runs are
    dropped first (a run that ended outside :func:`save`, e.g. rejected, keeps them).
    """
    finished = sa.select(sync_runs.c.id).where(
        sync_runs.c.integration_id == integration_id, sync_runs.c.phase == "done"
    )
    conn.execute(sa.delete(seen_unchanged).where(seen_unchanged.c.run_id.in_(finished)))
    return int(
        conn.execute(
            sa.insert(sync_runs)
            .values(
                integration_id=integration_id,
                kind=kind,
                status=RUNNING,
                phase="import",
                checkpoint=checkpoint,
                counts={},
                lease_owner=worker,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                started_at=now,
            )
            .returning(sync_runs.c.id)
        ).scalar_one()
    )


def acquire(
    conn: sa.Connection, run_id: int, *, worker: str, now: datetime, lease_seconds: float
) -> None:
    """Take (or renew) the lease of ``run_id``; LeaseHeldError while another worker's
    lease is live. Atomic: one conditional UPDATE."""
    free = sa.or_(
        sync_runs.c.lease_owner.is_(None),
        sync_runs.c.lease_owner == worker,
        sync_runs.c.lease_expires_at < now,
    )
    done = conn.execute(
        sa.update(sync_runs)
        .where(sync_runs.c.id == run_id, free)
        .values(lease_owner=worker, lease_expires_at=now + timedelta(seconds=lease_seconds))
    )
    if done.rowcount != 1:
        held = load(conn, run_id)
        raise LeaseHeldError(
            f"sync run {run_id} is being worked on by {held.lease_owner} "
            f"(lease until {held.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC)"
        )


def save(
    conn: sa.Connection,
    run_id: int,
    *,
    worker: str,
    now: datetime,
    lease_seconds: float,
    **values: Any,
) -> None:
    """Write run progress (checkpoint, phase ...) and renew the lease, fenced on owning
    it; LeaseHeldError (the caller's transaction must roll back) if it was taken over."""
    expires = now + timedelta(seconds=lease_seconds)
    if values.keys() <= {"checkpoint"}:  # the per-page save: straight to the driver
        done = _save_progress(conn, run_id, worker, expires, values.get("checkpoint"))
    else:
        done = conn.execute(
            sa.update(sync_runs)
            .where(sync_runs.c.id == run_id, sync_runs.c.lease_owner == worker)
            .values(lease_expires_at=expires, **values)
        )
    if done.rowcount != 1:
        raise LeaseHeldError(f"sync run {run_id} was taken over by another worker")
    if values.get("phase") == "done":  # the plan holds its lines: the notes are spent
        conn.execute(sa.delete(seen_unchanged).where(seen_unchanged.c.run_id == run_id))


_RENEW = "UPDATE sync_runs SET lease_expires_at = {p} WHERE id = {p} AND lease_owner = {p}"
_PROGRESS = (
    "UPDATE sync_runs SET lease_expires_at = {p}, checkpoint = {p} "
    "WHERE id = {p} AND lease_owner = {p}"
)


def _save_progress(
    conn: sa.Connection, run_id: int, worker: str, expires: datetime, checkpoint: Any
) -> sa.CursorResult[Any]:
    """The lease renewal (and checkpoint, unless None) as one plain statement: it runs
    after every imported page and every committed batch."""
    stamp = bulk.timestamp(conn, expires)
    if checkpoint is None:
        return conn.exec_driver_sql(bulk.driver_sql(conn, _RENEW), (stamp, run_id, worker))
    params = (stamp, bulk.json_text(checkpoint), run_id, worker)
    return conn.exec_driver_sql(bulk.driver_sql(conn, _PROGRESS), params)


def release(conn: sa.Connection, run_id: int, *, worker: str, **values: Any) -> None:
    """Give up the lease (and write final ``values``) if this worker still holds it."""
    conn.execute(
        sa.update(sync_runs)
        .where(sync_runs.c.id == run_id, sync_runs.c.lease_owner == worker)
        .values(lease_owner=None, lease_expires_at=None, **values)
    )
