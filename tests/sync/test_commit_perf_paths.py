"""The commit phase's set-based paths keep the per-line contract.

Leaving staging and marking lines done work on a batch's id span of ``run_log``; users
are written with driver-level statements. These tests pin what that must not change:
lines of other runs inside a span are untouched, written records leave only the ready
list while removed ones leave every list, create lines carry their new user's id,
updates write only their line's columns, and timestamps are stored as SQLAlchemy
stores them (behavioural, not timed).
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectkit.errors import StoreError
from connectkit.models import Role
from connectkit.store.tables import run_log, staged_records, sync_runs, users
from connectkit.sync import commit as commit_module
from connectkit.sync import service

from .conftest import MAPPING, NAME, World, build_world, only
from .test_first_sync import _assert_counts_equal_lines, person
from .test_ongoing import first_sync

REMOVED = ("S000000", "S000001", "S000002")
UPDATED = "S000005"
KEPT_IN_ERRORS = "S000006"


def _held_mixed_run(world: World) -> int:
    """A first sync of 10 students, then a run held by the guard that creates N1 and N2,
    updates S000005 and deactivates three students; returns the held run's id."""
    world.settings(guard={"max_deletions": 1, "max_deletion_percent": 5})
    first_sync(world, students=10, staff=0)
    for mis_id in REMOVED:
        world.fake.remove_person(Role.STUDENT, mis_id)
    world.fake.update_person(Role.STUDENT, UPDATED, last_name="Renamed")
    world.fake.add_people(
        Role.STUDENT,
        [person("N1", "New", "One", "n1@x.org"), person("N2", "New", "Two", "n2@x.org")],
    )
    held = service.start_run(world.rt, NAME, full=True)
    assert held.status == "on_hold", held
    return held.run_id


def _interleave_foreign_lines(world: World, run_id: int) -> list[dict[str, Any]]:
    """Spread the run's lines to even ids and put a planned line of another run at each
    odd id between them (as concurrent plans interleave on PostgreSQL); returns those."""
    with world.engine.begin() as conn:
        other = conn.execute(
            sa.select(sa.func.min(sync_runs.c.id)).where(sync_runs.c.id != run_id)
        ).scalar_one()
        mine = run_log.c.run_id == run_id
        conn.execute(sa.update(run_log).where(mine).values(id=-run_log.c.id))
        conn.execute(sa.update(run_log).where(mine).values(id=-run_log.c.id * 2))
        ids = list(conn.execute(sa.select(run_log.c.id, run_log.c.mis_id).where(mine)))
        foreign = [
            {
                "id": line_id + 1,
                "run_id": other,
                "mis_id": mis_id,
                "user_id": 424242,
                "action": action,
                "outcome": "planned",
                "detail": None,
            }
            for (line_id, mis_id), action in zip(ids, ["create", "deactivate"] * len(ids))
        ]
        conn.execute(sa.insert(run_log), foreign)
    return foreign


@pytest.mark.parametrize("batch", [1, 3, 1000])
def test_a_batch_span_touches_only_its_own_runs_lines(world: World, batch: int) -> None:
    run_id = _held_mixed_run(world)
    foreign = _interleave_foreign_lines(world, run_id)
    with world.engine.begin() as conn:  # a record the foreign lines name, still staged
        conn.execute(sa.update(staged_records).values(list="duplicate"))
    staged_before = world.staged()
    world.rt = world.runtime(batch=batch)
    res = service.approve(world.rt, NAME)
    assert res.status == "committed", res
    assert (res.counts["created"], res.counts["updated"], res.counts["deactivated"]) == (2, 1, 3)
    after = {ln["id"]: ln for ln in world.lines(foreign[0]["run_id"])}
    for line in foreign:
        assert {k: after[line["id"]][k] for k in line} == line
    mine = world.lines(run_id)
    assert {ln["outcome"] for ln in mine} == {"ok"}
    by_mis = {u["mis_id"]: u for u in world.users_raw()}
    for line in mine:
        assert line["user_id"] == by_mis[line["mis_id"]]["id"], line
    assert [by_mis[m]["active"] for m in REMOVED] == [False, False, False]
    assert by_mis[UPDATED]["last_name"] == "Renamed"
    # the foreign deactivate / create lines named staged records: none may have left
    assert world.staged() == [r for r in staged_before if r["mis_id"] not in REMOVED]
    _assert_counts_equal_lines(world, run_id, res.counts)


def test_written_records_leave_only_the_ready_list_removed_ones_every_list(
    world: World,
) -> None:
    run_id = _held_mixed_run(world)
    with world.engine.begin() as conn:
        staged = {r["mis_id"]: r for r in conn.execute(sa.select(staged_records)).mappings()}
        template = dict(staged[UPDATED])
        for mis_id, listed in (
            (REMOVED[0], "error"),
            (REMOVED[1], "duplicate"),
            (KEPT_IN_ERRORS, "error"),
        ):
            row = template | {"mis_id": mis_id, "list": listed}
            row.pop("id")
            conn.execute(sa.delete(staged_records).where(staged_records.c.mis_id == mis_id))
            conn.execute(sa.insert(staged_records).values(row))
        # the update's record is moved to the errors list after the plan: it must stay
        conn.execute(
            sa.update(staged_records).where(staged_records.c.mis_id == UPDATED).values(list="error")
        )
    res = service.approve(world.rt, NAME)
    assert res.status == "committed", res
    left = {r["mis_id"]: r["list"] for r in world.staged()}
    assert left == {UPDATED: "error", KEPT_IN_ERRORS: "error"}
    assert {ln["action"] for ln in world.lines(run_id) if ln["mis_id"] == UPDATED} == {"update"}


def test_create_lines_carry_the_id_of_the_user_they_created(world: World) -> None:
    world.rt = world.runtime(batch=4)
    world.add(Role.STUDENT, 9)
    world.add(Role.STAFF, 5)
    service.start_run(world.rt, NAME)
    res = service.confirm(world.rt, NAME)
    lines = world.lines(res.run_id)
    ids = {u["mis_id"]: u["id"] for u in world.users_raw()}
    assert len(ids) == len(lines) == res.counts["created"]
    assert [ln["user_id"] for ln in lines] == [ids[ln["mis_id"]] for ln in lines]
    assert len(set(ids.values())) == len(ids)


def test_mark_done_refuses_a_span_that_is_not_exactly_the_batch(world: World) -> None:
    world.add(Role.STUDENT, 5)
    run = service.start_run(world.rt, NAME)
    lines = world.lines(run.run_id)
    span = (run.run_id, lines[0]["id"], lines[-1]["id"])
    refused = pytest.raises(StoreError, match="expected the batch's other 4")
    with refused, world.engine.begin() as conn:
        commit_module._mark_done(conn, span, [], 4)
    assert {ln["outcome"] for ln in world.lines(run.run_id)} == {"planned"}  # rolled back


def test_row_shapes_differ_per_role_and_updates_write_only_their_columns(
    sync_engine: sa.Engine, tmp_path: Path
) -> None:
    staff = MAPPING["staff"] | {"fields": MAPPING["staff"]["fields"] | {"phones.mobile": "phone"}}
    world = build_world(sync_engine, tmp_path / "state", mapping=MAPPING | {"staff": staff})
    world.fake.add_people(
        Role.STAFF,
        [
            person(
                f"T{n}", "Tea", f"Cher{n}", f"t{n}@x.org", ("st-teaching",), Role.STAFF
            ).model_copy(update={"phones": {"mobile": f"+4479111234{n:02d}"}})
            for n in range(6)
        ],
    )
    first_sync(world, students=6, staff=0)
    created = {u["mis_id"]: u for u in world.users_raw()}
    staff_rows = [u for u in created.values() if u["mis_id"].startswith("T")]
    student_rows = [u for u in created.values() if u["mis_id"].startswith("S")]
    assert staff_rows
    assert student_rows
    assert all(u["phone"] and u["phone_key"] == u["phone"] for u in staff_rows)
    assert all(u["phone"] is None and u["phone_key"] is None for u in student_rows)
    student = student_rows[0]
    with world.engine.begin() as conn:  # a phone the directory holds, not mapped for students
        conn.execute(
            sa.update(users)
            .where(users.c.id == student["id"])
            .values(phone="+447700900123", phone_key="+447700900123")
        )
    world.fake.update_person(Role.STUDENT, student["mis_id"], last_name="Moved")
    res = service.start_run(world.rt, NAME)
    assert res.counts["updated"] == 1, res.counts
    after = {u["mis_id"]: u for u in world.users_raw()}
    changed = after[student["mis_id"]]
    assert (changed["phone"], changed["phone_key"]) == ("+447700900123", "+447700900123")
    assert changed["last_name"] == "Moved"
    assert changed["name_key"].endswith("\x1fmoved")
    assert changed["created_at"] == student["created_at"]
    assert changed["updated_at"] > student["updated_at"]
    assert {k: v for k, v in after.items() if k != student["mis_id"]} == {
        k: v for k, v in created.items() if k != student["mis_id"]
    }


def test_updated_and_deactivated_users_store_time_as_sqlalchemy_does(world: World) -> None:
    run_id = _held_mixed_run(world)
    now = world.clock()
    res = service.approve(world.rt, NAME)
    assert res.run_id == run_id
    by_mis = {u["mis_id"]: u for u in world.users_raw()}
    for mis_id in (UPDATED, REMOVED[0], "N1"):
        stored = by_mis[mis_id]["updated_at"]
        assert stored.replace(tzinfo=stored.tzinfo or UTC) == now, mis_id
    if world.engine.dialect.name != "sqlite":
        return
    dialect = world.engine.dialect
    expected = sa.DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)(now)
    with world.engine.connect() as conn:
        raw = dict(conn.exec_driver_sql("SELECT mis_id, updated_at FROM users").all())
    assert {raw[m] for m in (UPDATED, REMOVED[0], "N1")} == {expected}
    assert only([ln for ln in world.lines(run_id) if ln["mis_id"] == "N1"])["outcome"] == "ok"


def test_match_keys_carried_from_staging_equal_the_keys_of_what_commit_wrote(
    world: World,
) -> None:
    from connectkit.sync.keys import user_keys

    world.add(Role.STUDENT, 12)
    world.add(Role.STAFF, 4)
    first = service.start_run(world.rt, NAME)
    lines = world.lines(first.run_id)
    creates = [ln for ln in lines if ln["action"] == "create"]
    assert len(creates) >= 12
    assert all(ln["detail"]["keys"] for ln in creates)  # staging's keys, carried
    service.confirm(world.rt, NAME)
    world.clock.advance(hours=1)
    world.fake.update_person(Role.STUDENT, "S000003", last_name="Ångström ")
    again = service.start_run(world.rt, NAME)  # an update: keys computed at commit
    assert again.counts["updated"] == 1
    for u in world.users_raw():
        fields = {"first_name": u["first_name"], "last_name": u["last_name"],
                  "email": u["email"], "phone": u["phone"]}  # fmt: skip
        stored = {k: u[k] for k in ("name_key", "email_key", "phone_key")}
        assert stored == user_keys(fields), u["mis_id"]


def test_carried_key_creates_write_exactly_the_row_the_per_line_path_builds(
    sync_engine: sa.Engine, tmp_path: Path
) -> None:
    """The database builds the users rows of carried-key create lines from their JSON;
    each must equal what ``commit._row`` (the per-line path) builds from the same line:
    every column, driver-level, for students (no phone mapped) and staff (phone mapped)."""
    staff = MAPPING["staff"] | {"fields": MAPPING["staff"]["fields"] | {"phones.mobile": "phone"}}
    world = build_world(sync_engine, tmp_path / "state", mapping=MAPPING | {"staff": staff})
    world.fake.add_people(
        Role.STAFF,
        [
            person(f"T{n}", "Zoë", f"Ñúñez {n}", None if n % 2 else f"t{n}@x.org",
                   ("st-teaching",), Role.STAFF)
            .model_copy(update={"phones": {"mobile": f"+4479111234{n:02d}"}})
            for n in range(5)
        ],
    )  # fmt: skip
    world.add(Role.STUDENT, 9)
    service.start_run(world.rt, NAME)
    res = service.confirm(world.rt, NAME)
    assert res.counts["created"] == 14, res.counts
    creates = [ln for ln in world.lines(res.run_id) if ln["action"] == "create"]
    assert all(ln["detail"]["keys"] for ln in creates)  # all took the set-based path
    columns = [c.name for c in users.c if c.name not in ("id", "photo_hash", "created_at")]
    with world.engine.connect() as conn:
        targets = commit_module._Targets(conn)
        stamp = commit_module.bulk.timestamp(conn, world.clock())
        names = ", ".join(columns)
        stored = {
            row[0]: dict(zip(columns, row[1:], strict=True))
            for row in conn.exec_driver_sql(f"SELECT mis_id, {names} FROM users")
        }
        for line in creates:
            built = commit_module._row(world.integration_id, line, targets, stamp)
            expected = dict.fromkeys(columns) | built
            assert stored[line["mis_id"]] == expected, line["mis_id"]
    assert {u["mis_id"]: u["phone"] is not None for u in stored.values()} == {
        m: m.startswith("T") for m in stored
    }


def _steps_reading_lines(engine: sa.Engine, run_id: int) -> int:
    """SQLite virtual-machine steps (in thousands) that reading ``run_id``'s planned
    lines from the start takes."""
    ticks = [0]

    def tick() -> int:
        ticks[0] += 1
        return 0

    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        raw.set_progress_handler(tick, 1000)
        try:
            lines = commit_module._next_lines(conn, run_id, 0, 10_000)
        finally:
            raw.set_progress_handler(None, 1000)
    assert len(lines) == 10  # the dry run's lines: 9 unchanged, 1 update
    assert {line["run_id"] for line in lines} == {run_id}
    return ticks[0]


def test_reading_a_runs_lines_does_not_walk_the_lines_of_earlier_runs(tmp_path: Path) -> None:
    """The log keeps every run's lines; commit's reads of one run cost the same whether
    the log holds 20 earlier lines or 50 020."""
    from connectkit.store.engine import make_engine
    from connectkit.store.tables import metadata

    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    metadata.create_all(engine)
    world = build_world(engine, tmp_path / "state")
    try:
        first_sync(world, students=10, staff=0)
        world.fake.update_person(Role.STUDENT, UPDATED, first_name="Renamed")
        dry = service.plan(world.rt, NAME)  # a dry run: its update line stays planned
        few = _steps_reading_lines(engine, dry.run_id)
        with engine.begin() as conn:  # a long history, all before this run's lines
            conn.exec_driver_sql("UPDATE run_log SET id = id + 100000 WHERE run_id = ?",
                                 (dry.run_id,))  # fmt: skip
            conn.execute(sa.insert(run_log), [
                {"id": 1000 + i, "run_id": 1, "mis_id": f"X{i:06d}", "action": "unchanged",
                 "outcome": "ok"} for i in range(50_000)
            ])  # fmt: skip
        many = _steps_reading_lines(engine, dry.run_id)
        assert many <= few + 2, (few, many)
    finally:
        engine.dispose()
