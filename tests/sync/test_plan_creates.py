"""Set-based create planning (connectkit.sync.plan_creates) writes exactly the lines the
row-by-row planner writes, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from connectkit import integrations as lifecycle
from connectkit.models import Role
from connectkit.store.tables import run_log
from connectkit.sync import review, service
from connectkit.sync.mapper import compile_mapping
from connectkit.sync.plan import Planner

from .conftest import NAME, World
from .test_ongoing import first_sync


def _replan(
    world: World, run_id: int, *, set_based: bool, full: bool, revise: bool = False
) -> list[tuple[Any, ...]]:
    """Plan ``run_id`` again (as the driver would) and return its lines, comparable; the
    plan's counts must be the lines' counts."""
    with world.engine.begin() as conn:
        row = lifecycle.get(conn, world.integration_id)
        maps = compile_mapping(row.mapping)
        planner = Planner(
            integration_id=row.id, run_id=run_id, full=full,
            policy=str(row.settings.get("deletion") or "deactivate"),
            site=str(row.settings["sites"][0]), maps={str(r): maps[r] for r in Role},
            set_based=set_based, revise=revise,
        )  # fmt: skip
        summary = planner.plan(conn)
        lines = conn.execute(
            sa.select(run_log.c.mis_id, run_log.c.user_id, run_log.c.action, run_log.c.detail)
            .where(run_log.c.run_id == run_id)
        ).all()
    assert summary["actions"] == _count(lines)
    return sorted((tuple(line) for line in lines), key=lambda t: (t[0] or "", t[2]))


def _count(lines: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.action] = counts.get(line.action, 0) + 1
    return counts


def test_first_sync_lines_are_the_same_both_ways(world: World) -> None:
    world.add(Role.STUDENT, 20)
    world.add(Role.STAFF, 6)  # staff map no phone or email: their values differ in shape
    twin = world.fake.people[Role.STUDENT]["S000004"]
    world.add_directory_user(twin.first_name or "", twin.last_name or "",
                             twin.emails.get("primary"))  # fmt: skip
    world.fake.update_person(Role.STUDENT, "S000009", last_name="")
    res = service.start_run(world.rt, NAME)
    assert (res.errors, res.duplicates) == (1, 1)
    with world.engine.begin() as conn:
        review.skip(conn, NAME, "S000009", actor="test")
        review.merge(conn, NAME, "S000004", actor="test")
    fast = _replan(world, res.run_id, set_based=True, full=True)
    slow = _replan(world, res.run_id, set_based=False, full=True)
    assert fast == slow
    assert {line[2] for line in fast} == {"create", "merge", "skip"}
    assert sum(line[2] == "create" for line in fast) == 23  # 19 students + 4 mapped staff


def test_ongoing_run_lines_are_the_same_both_ways(world: World) -> None:
    first_sync(world, students=8, staff=3)
    world.add(Role.STUDENT, 5, start=100)  # new people: creates
    old = world.fake.people[Role.STUDENT]["S000001"]
    world.fake.remove_person(Role.STUDENT, "S000001")  # ... re-enrolled under a new id
    world.fake.add_people(Role.STUDENT, [old.model_copy(update={"mis_id": "S999999"})])
    world.fake.update_person(Role.STUDENT, "S000002", first_name="Changed")
    world.fake.remove_person(Role.STUDENT, "S000003")
    # every record staged (no fast-path notes: a finished run's notes are gone)
    res = service.plan(world.runtime(skip_unchanged=False), NAME, full=True)
    fast = _replan(world, res.run_id, set_based=True, full=True)
    slow = _replan(world, res.run_id, set_based=False, full=True)
    assert fast == slow
    kinds: dict[str, int] = {}
    for line in fast:
        kinds[line[2]] = kinds.get(line[2], 0) + 1
    assert kinds == {"create": 5, "update": 2, "deactivate": 1, "unchanged": 8}
