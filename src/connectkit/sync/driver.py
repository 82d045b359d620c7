"""Drive a leased run through its phases until it finishes or must wait for an admin.

``import`` -> ``plan`` -> (``review`` | ``hold``) -> ``commit`` -> ``done``. Every phase
boundary is saved (fenced on the lease) before the next phase starts, so a run picked up
by :func:`drive` after a crash continues with the phase it was in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from connectkit import integrations as lifecycle
from connectkit.errors import ConnectkitError, ConnectorError
from connectkit.models import MISDeletion, Role
from connectkit.reports import RunReport
from connectkit.store.engine import checkpoint
from connectkit.store.tables import integrations, sync_runs
from connectkit.sync import actions as A
from connectkit.sync import guard, runs
from connectkit.sync.commit import commit
from connectkit.sync.fingerprint import run_salt
from connectkit.sync.gc_tuning import streaming_gc
from connectkit.sync.hashing import record_hash
from connectkit.sync.importer import Progress, run_import
from connectkit.sync.mapper import compile_mapping
from connectkit.sync.plan import Planner
from connectkit.sync.results import RunResult, executed_counts, list_sizes
from connectkit.sync.runtime import Runtime
from connectkit.sync.stage import Stager, holdings
from connectkit.sync.validate import Validator

log = logging.getLogger(__name__)


def drive(rt: Runtime, run_id: int, progress: Progress | None = None) -> RunResult:
    """Run phases of the (already leased) run; returns where it stopped.

    On an exception the lease is released with the error recorded (the run stays
    ``running`` and resumable with ``continue``), health becomes ``failing`` for
    connector trouble, and the exception propagates.
    """
    try:
        with streaming_gc():
            while True:
                with rt.engine.connect() as conn:
                    run = runs.load(conn, run_id)
                    row = lifecycle.get(conn, run.integration_id)
                if run.status != runs.RUNNING:
                    _settle_store(rt, run)
                    return result(rt, run_id)
                step = _PHASES[run.phase]
                _refresh_statistics(rt)
                step(rt, run, row, progress)
    except BaseException as exc:
        _interrupted(rt, run_id, exc)
        raise


CHECKPOINT_LINES = 5000
"""A run whose plan has at least this many lines checkpoints the SQLite write-ahead log
when it stops (the work of copying its pages falls on it, not on whichever later run
crosses ``wal_autocheckpoint``); smaller runs leave their few pages to SQLite."""


def _settle_store(rt: Runtime, run: runs.RunRow) -> None:
    """Checkpoint the store after a large run (see :data:`CHECKPOINT_LINES`)."""
    actions = (run.plan_summary or {}).get("actions", {})
    if sum(int(n) for n in actions.values()) >= CHECKPOINT_LINES:
        checkpoint(rt.engine)


def _import(
    rt: Runtime, run: runs.RunRow, row: lifecycle.IntegrationRow, progress: Progress | None
) -> None:
    connector = rt.hooks.connector(row.connector)
    region = str(row.settings.get("phone_region") or "GB")
    with rt.engine.connect() as conn:
        held = holdings(conn, row.id, run.id)
    stager = Stager(
        integration_id=row.id,
        integration=row.name,
        run_id=run.id,
        maps=compile_mapping(row.mapping),
        validator=Validator(phone_region=region),
        site=_site(row),
        hooks=rt.hooks,
        salt=run_salt(row.mapping, region, _site(row)) if rt.skip_unchanged else b"",
        by_fingerprint=connector.info.capabilities.fingerprints
        and not rt.hooks.has_record_adjusters(),
        held=held,
    )
    run_import(rt, run, connector, rt.env.context_for(row), stager, progress)
    _save(rt, run.id, phase="plan")


def _plan(
    rt: Runtime, run: runs.RunRow, row: lifecycle.IntegrationRow, _progress: Progress | None
) -> None:
    full = bool(run.checkpoint.get("full"))
    maps = compile_mapping(row.mapping)
    inputs = _plan_inputs(row)
    planner = Planner(
        integration_id=row.id,
        run_id=run.id,
        full=full,
        policy=str(row.settings.get("deletion") or "deactivate"),
        site=_site(row),
        maps={str(role): maps[role] for role in Role},
        revise=_revising(run, inputs),
    )
    deletions = _deletions(rt, run, row) if not full else iter(())
    with rt.engine.begin() as conn:
        summary = planner.plan(conn, deletions)
        summary |= {"full": full, "seen": int(run.checkpoint.get("seen", 0)), "inputs": inputs}
        values: dict[str, Any] = {"plan_summary": summary}
        if run.checkpoint.get("dry_run"):
            values |= _finished(rt, runs.PLANNED)
        elif run.kind == "first" and not run.checkpoint.get("confirmed"):
            values |= {"status": runs.AWAITING_REVIEW, "phase": "review"}
        elif run.kind != "first" and not run.checkpoint.get("approved"):
            held = guard.reasons(summary, row.settings, _previous_seen(conn, row.id, run.id))
            if held:
                summary["held"] = held
                values |= {"status": runs.ON_HOLD, "phase": "hold"}
                lifecycle.set_health(
                    conn,
                    row.id,
                    "on_hold",
                    actor=rt.actor,
                    cause=f"run {run.id} held: " + "; ".join(held),
                )
        values.setdefault("phase", "commit")
        runs.save(
            conn, run.id, worker=rt.worker, now=rt.clock(), lease_seconds=rt.lease_seconds, **values
        )
        if values.get("status") in (runs.AWAITING_REVIEW, runs.ON_HOLD, runs.PLANNED):
            runs.release(conn, run.id, worker=rt.worker)
    if values.get("status") in (runs.AWAITING_REVIEW, runs.ON_HOLD):
        report(rt, run.id)


def _plan_inputs(row: lifecycle.IntegrationRow) -> str:
    """A digest of what a plan reads besides the staged records and the directory: the
    integration's mapping and settings (kept in the plan summary)."""
    return record_hash({"mapping": row.mapping, "version": row.mapping_version,
                        "settings": row.settings})  # fmt: skip


def _revising(run: runs.RunRow, inputs: str) -> bool:
    """True when this plan replaces the run's own plan after review: the first sync's
    confirm, with the mapping and settings that plan was made with."""
    earlier = run.plan_summary or {}
    return bool(run.checkpoint.get("confirmed")) and earlier.get("inputs") == inputs


def _commit(
    rt: Runtime, run: runs.RunRow, row: lifecycle.IntegrationRow, _progress: Progress | None
) -> None:
    commit(rt, run.id, row.id)
    with rt.engine.begin() as conn:
        counts = executed_counts(conn, run.id)
        stamp = "last_full_sync_at" if run.checkpoint.get("full") else "last_delta_sync_at"
        conn.execute(
            sa.update(integrations)
            .where(integrations.c.id == row.id)
            .values({stamp: run.started_at})
        )
        if run.kind == "first":
            lifecycle.transition(
                conn,
                row.id,
                lifecycle.Status.ACTIVE,
                actor=rt.actor,
                cause=f"first sync confirmed and committed (run {run.id})",
            )
        if row.health != lifecycle.Health.OK:
            lifecycle.set_health(
                conn, row.id, "ok", actor=rt.actor, cause=f"run {run.id} committed"
            )
        runs.save(
            conn,
            run.id,
            worker=rt.worker,
            now=rt.clock(),
            lease_seconds=rt.lease_seconds,
            counts=counts,
            **_finished(rt, runs.COMMITTED),
        )
        runs.release(conn, run.id, worker=rt.worker)
    report(rt, run.id)


_PHASES: dict[
    str, Callable[[Runtime, runs.RunRow, lifecycle.IntegrationRow, Progress | None], None]
] = {
    "import": _import,
    "plan": _plan,
    "commit": _commit,
}


_HOT_TABLES = ("users", "staged_records", "run_log")
_STALE_ROWS = 1000
_STALE = (
    "SELECT relname FROM pg_stat_user_tables WHERE relname IN ('users', 'staged_records', "
    "'run_log') AND n_mod_since_analyze > %s"
)


def _refresh_statistics(rt: Runtime) -> None:
    """PostgreSQL only: ANALYZE the tables a phase reads in bulk when more than
    ``_STALE_ROWS`` of their rows changed since they were last analysed.

    A phase follows one that changed tens of thousands of rows in seconds, long before
    autovacuum notices; with stale statistics the planner picks sequential scans for the
    per-page lookups and a nested loop for the set-based settle (10k people: 32 s for an
    unchanged re-run instead of ~5 s). SQLite plans from its indexes alone.
    """
    if rt.engine.dialect.name != "postgresql":
        return
    with rt.engine.begin() as conn:
        stale = [row[0] for row in conn.exec_driver_sql(_STALE, (_STALE_ROWS,)).all()]
        for table in stale:
            if table in _HOT_TABLES:  # constants only
                conn.exec_driver_sql(f'ANALYZE "{table}"')


def _site(row: lifecycle.IntegrationRow) -> str | None:
    sites = row.settings.get("sites") or []
    return str(sites[0]) if sites else None


def _deletions(rt: Runtime, run: runs.RunRow, row: lifecycle.IntegrationRow) -> Any:
    connector = rt.hooks.connector(row.connector)
    if not connector.info.capabilities.deletions_feed:
        return iter(())
    since = run.checkpoint.get("since")
    stamp = datetime.fromisoformat(since) if since else None
    feed: Any = connector.fetch_deletions(rt.env.context_for(row), stamp)
    return (d for d in feed if isinstance(d, MISDeletion))


def _previous_seen(conn: sa.Connection, integration_id: int, run_id: int) -> int | None:
    """People seen by the last committed full run (for the source-ratio guard)."""
    query = (
        sa.select(sync_runs.c.plan_summary)
        .where(
            sync_runs.c.integration_id == integration_id,
            sync_runs.c.id != run_id,
            sync_runs.c.status == runs.COMMITTED,
        )
        .order_by(sync_runs.c.id.desc())
        .limit(50)
    )
    for summary in conn.execute(query).scalars():
        if summary and summary.get("full"):
            return int(summary.get("seen", 0))
    return None


def _finished(rt: Runtime, status: str) -> dict[str, Any]:
    return {"status": status, "phase": "done", "finished_at": rt.clock()}


def _save(rt: Runtime, run_id: int, **values: Any) -> None:
    with rt.engine.begin() as conn:
        runs.save(
            conn, run_id, worker=rt.worker, now=rt.clock(), lease_seconds=rt.lease_seconds, **values
        )


def _interrupted(rt: Runtime, run_id: int, exc: BaseException) -> None:
    message = str(exc) if isinstance(exc, ConnectkitError) else type(exc).__name__
    try:
        with rt.engine.begin() as conn:
            runs.release(conn, run_id, worker=rt.worker, error=message[:2000])
            run = runs.load(conn, run_id)
            if isinstance(exc, ConnectorError):
                lifecycle.set_health(
                    conn,
                    run.integration_id,
                    "failing",
                    actor=rt.actor,
                    cause=f"run {run_id} interrupted: {message}"[:500],
                )
        if isinstance(exc, ConnectorError):
            report(rt, run_id, status="failed")
    except Exception:  # the store itself may be what failed
        log.exception("could not record the interruption of run %s", run_id)


def result(rt: Runtime, run_id: int) -> RunResult:
    """The :class:`RunResult` of ``run_id`` as stored now."""
    with rt.engine.connect() as conn:
        run = runs.load(conn, run_id)
        row = lifecycle.get(conn, run.integration_id)
        sizes = list_sizes(conn, row.id)
        counts = _executed(conn, run)
    summary = run.plan_summary or {}
    return RunResult(
        run_id=run.id,
        integration=row.name,
        kind=run.kind,
        status=run.status,
        phase=run.phase,
        counts=counts,
        planned=dict(summary.get("actions", {})),
        errors=sizes["error"],
        duplicates=sizes["duplicate"],
        ready=sizes["ready"],
        held=list(summary.get("held", [])),
        error=run.error,
    )


_UNEXECUTED = ("import", "plan", "review", "hold")
"""Phases before any line is executed."""


def _executed(conn: sa.Connection, run: runs.RunRow) -> dict[str, int]:
    """The run's executed counts: as saved with its ``committed`` status (computed from
    its lines), none before its commit phase or for a dry or rejected run, else counted
    from its lines (a run interrupted or abandoned mid-commit)."""
    if run.status == runs.COMMITTED and run.counts:
        return dict(run.counts)
    if run.phase in _UNEXECUTED or run.status in (runs.PLANNED, runs.REJECTED):
        return dict.fromkeys(A.COUNTS, 0)
    return executed_counts(conn, run.id)


def report(rt: Runtime, run_id: int, status: str | None = None) -> None:
    """Tell every ``connectkit_run_finished`` implementation how the run ended; a
    failing plugin is logged, never fatal to the run."""
    res = result(rt, run_id)
    with rt.engine.connect() as conn:
        run = runs.load(conn, run_id)
    rep = RunReport(
        integration=res.integration,
        run_id=run_id,
        kind=res.kind,
        status=status or res.status,
        started_at=run.started_at,
        finished_at=run.finished_at or rt.clock(),
        counts=res.counts,
        errors=res.errors,
        duplicates=res.duplicates,
    )
    try:
        rt.hooks.run_finished(rep)
    except Exception:
        log.exception("a connectkit_run_finished plugin failed for run %s", run_id)
