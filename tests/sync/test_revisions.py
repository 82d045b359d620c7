"""Review marks (connectkit.sync.revisions) and the re-plan after review: every review
action marks its record, every plan clears the marks, and a revised plan writes exactly
the lines a full plan writes, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa

from connectkit.models import Role
from connectkit.store.tables import run_log, sites, users
from connectkit.sync import review, revisions, service

from .conftest import NAME, World
from .test_plan_creates import _replan


def _marked(world: World) -> set[str]:
    with world.engine.connect() as conn:
        return revisions.marked(conn, world.integration_id)


def _plan(world: World, run_id: int, *, revise: bool) -> tuple[list[Any], dict[str, int]]:
    """Plan the first sync ``run_id`` again; its lines (comparable) and their counts."""
    lines = _replan(world, run_id, set_based=True, full=True, revise=revise)
    return lines, dict(Counter(action for _mis_id, _user, action, _detail in lines))


def _create_line_ids(world: World, run_id: int) -> dict[str, int]:
    with world.engine.connect() as conn:
        rows = conn.execute(
            sa.select(run_log.c.mis_id, run_log.c.id)
            .where(run_log.c.run_id == run_id, run_log.c.action == "create")
        ).all()
    return {mis_id: line_id for mis_id, line_id in rows}


def _assert_kept(before: dict[str, int], after: dict[str, int], fixed: str) -> None:
    """The create lines ``before`` were kept as they were (same ids), and the line of
    the record review ``fixed`` was added after them (a full plan would have deleted
    every line first: PostgreSQL would renumber them all, SQLite would reuse the freed
    ids, so the fixed record's line would not come after them)."""
    assert {m: after[m] for m in before} == before
    assert fixed not in before
    assert after[fixed] > max(before.values())


def _staged_first_sync(world: World) -> int:
    """A first sync awaiting review: 20 students and 6 staff, two errors (S000009,
    S000011) and two duplicates (S000004, S000006) of hand-made directory users."""
    world.add(Role.STUDENT, 20)
    world.add(Role.STAFF, 6)
    for mis_id in ("S000004", "S000006"):
        twin = world.fake.people[Role.STUDENT][mis_id]
        world.add_directory_user(twin.first_name or "", twin.last_name or "",
                                 twin.emails.get("primary"))  # fmt: skip
    world.fake.update_person(Role.STUDENT, "S000009", last_name="")
    world.fake.update_person(Role.STUDENT, "S000011", emails={"primary": "not-an-email"})
    res = service.start_run(world.rt, NAME)
    assert (res.status, res.errors, res.duplicates) == ("awaiting_review", 2, 2)
    return res.run_id


REVIEWED = {"S000009", "S000011", "S000004", "S000006", "S000002", "S000003"}
"""The records :func:`_review_every_way` acts on."""


def _review_every_way(world: World) -> None:
    """Every review action, on ready records as well as listed ones."""
    with world.engine.begin() as conn:
        review.edit(conn, NAME, "S000009", {"last_name": "Fixed"}, actor="test")  # -> ready
        review.skip(conn, NAME, "S000011", actor="test")  # an error, skipped
        review.merge(conn, NAME, "S000004", actor="test")  # a duplicate, merged
        review.skip(conn, NAME, "S000006", actor="test")  # a duplicate, skipped
        review.skip(conn, NAME, "S000002", actor="test")  # a ready record, skipped
        review.skip(conn, NAME, "S000003", actor="test")  # ... and un-skipped again
        review.unskip(conn, NAME, "S000003", actor="test")


def test_every_review_action_marks_its_record_and_a_plan_clears_them(world: World) -> None:
    run_id = _staged_first_sync(world)
    assert _marked(world) == set()  # the plan at the end of the import cleared them
    _review_every_way(world)
    assert _marked(world) == REVIEWED
    _plan(world, run_id, revise=True)
    assert _marked(world) == set()
    with world.engine.begin() as conn:
        assert not review.unskip(conn, NAME, "S000007", actor="test")  # nothing to forget
    assert _marked(world) == set()


def test_a_revised_plan_writes_the_lines_of_a_full_plan(world: World) -> None:
    run_id = _staged_first_sync(world)
    before = _create_line_ids(world, run_id)
    _review_every_way(world)
    with world.engine.connect() as conn:
        marks = revisions.marked(conn, world.integration_id)
    revised, revised_counts = _plan(world, run_id, revise=True)
    after = _create_line_ids(world, run_id)
    _assert_kept({m: i for m, i in before.items() if m not in marks}, after, fixed="S000009")
    assert "S000002" not in after  # skipped after the import: its create line is gone
    full, full_counts = _plan(world, run_id, revise=False)
    assert revised == full
    assert revised_counts == full_counts == {"create": 21, "merge": 1, "skip": 3}


def test_a_merge_whose_user_went_away_is_planned_as_a_create(world: World) -> None:
    """A decided merge whose directory user is deleted between two plans (no review mark
    left to say so) becomes a plain create in the revised plan, as in a full one."""
    run_id = _staged_first_sync(world)
    with world.engine.begin() as conn:
        review.skip(conn, NAME, "S000009", actor="test")
        review.skip(conn, NAME, "S000011", actor="test")
        review.merge(conn, NAME, "S000004", actor="test")
        review.skip(conn, NAME, "S000006", actor="test")
    _plan(world, run_id, revise=True)  # plans the merge and clears the marks
    assert _marked(world) == set()
    target = world.staged()
    user_id = next(r["match_user_id"] for r in target if r["mis_id"] == "S000004")
    with world.engine.begin() as conn:
        conn.execute(sa.delete(users).where(users.c.id == user_id))
    revised, revised_counts = _plan(world, run_id, revise=True)
    full, full_counts = _plan(world, run_id, revise=False)
    assert revised == full
    assert revised_counts == full_counts == {"create": 22, "skip": 3}


def test_confirm_keeps_the_untouched_lines_and_commits_what_review_decided(
    world: World,
) -> None:
    run_id = _staged_first_sync(world)
    before = _create_line_ids(world, run_id)
    _review_every_way(world)
    done = service.confirm(world.rt, NAME)
    assert done.status == "committed"
    assert {k: v for k, v in done.counts.items() if v} == {
        "created": 21, "merged": 1, "skipped": 3
    }  # fmt: skip
    untouched = {m: i for m, i in before.items() if m not in REVIEWED}
    _assert_kept(untouched, _create_line_ids(world, run_id), fixed="S000009")
    linked = {u["mis_id"] for u in world.directory() if u["integration_id"]}
    assert {"S000009", "S000004", "S000003"} <= linked
    assert not linked & {"S000002", "S000006", "S000011"}


def test_confirm_plans_everything_again_when_the_settings_changed(world: World) -> None:
    """The kept lines hold the site the plan was made with: a settings edit between
    review and confirm makes confirm plan every line again."""
    _staged_first_sync(world)
    with world.engine.begin() as conn:
        for mis_id in ("S000009", "S000011", "S000004", "S000006"):
            review.skip(conn, NAME, mis_id, actor="test")
    world.settings(sites=["North Site"])
    done = service.confirm(world.rt, NAME)
    assert done.counts["created"] == 21
    with world.engine.connect() as conn:
        placed = conn.execute(
            sa.select(sites.c.name, sa.func.count())
            .select_from(users.join(sites, sites.c.id == users.c.site_id))
            .where(users.c.integration_id == world.integration_id)
            .group_by(sites.c.name)
        ).all()
    assert [tuple(p) for p in placed] == [("North Site", 21)]
