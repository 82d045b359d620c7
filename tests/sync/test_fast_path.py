"""The unchanged-record fast path (connectkit.sync.fingerprint): a record whose source
digest equals its user's ``source_hash`` is planned ``unchanged`` without staging, and
every outcome equals what checking the record in full gives."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from connectkit.models import Role
from connectkit.store.tables import seen_unchanged, users
from connectkit.sync import mapping_rules, review, service

from .conftest import MAPPING, NAME, World, build_world
from .test_first_sync import _assert_counts_equal_lines
from .test_ongoing import first_sync, nonzero


def _hashes(world: World) -> dict[str, str | None]:
    with world.engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.mis_id, users.c.source_hash)).all()
    return {mis_id: source for mis_id, source in rows if mis_id}


def _seen_rows(world: World) -> int:
    with world.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(seen_unchanged)).scalar())


def _staged_ids(world: World) -> set[str]:
    return {row["mis_id"] for row in world.staged()}


def test_commit_stores_a_source_digest_on_every_user_it_writes(world) -> None:
    first_sync(world)
    hashes = _hashes(world)
    assert len(hashes) == 15
    assert all(h is not None and len(h) == 32 for h in hashes.values())
    assert len(set(hashes.values())) == 15  # one per record, not a constant


def test_unchanged_records_are_not_staged_and_are_planned_unchanged(world) -> None:
    first_sync(world)
    res = service.plan(world.rt, NAME, full=True)  # dry run: staged rows stay visible
    assert _staged_ids(world) == set()  # nothing validated, matched or stored
    assert nonzero(res.planned) == {"unchanged": 15}
    lines = world.lines(res.run_id)
    assert len(lines) == 15
    assert {ln["action"] for ln in lines} == {"unchanged"}
    assert {ln["user_id"] for ln in lines} == {u["id"] for u in world.users_raw()}


def test_without_the_fast_path_the_same_records_are_staged(world) -> None:
    first_sync(world)
    res = service.plan(world.runtime(skip_unchanged=False), NAME, full=True)
    assert len(_staged_ids(world)) == 15
    assert nonzero(res.planned) == {"unchanged": 15}


def test_a_changed_record_leaves_the_fast_path(world) -> None:
    first_sync(world)
    world.fake.update_person(Role.STUDENT, "S000004", last_name="Changed")
    res = service.plan(world.rt, NAME, full=True)
    assert _staged_ids(world) == {"S000004"}
    assert nonzero(res.planned) == {"unchanged": 14, "update": 1}


def test_full_reconciliation_removes_only_the_absent(world) -> None:
    first_sync(world)
    world.fake.remove_person(Role.STUDENT, "S000002")
    res = service.start_run(world.rt, NAME, kind="reconcile")
    assert res.status == "committed"
    assert nonzero(res.counts) == {"unchanged": 14, "deactivated": 1}
    active = {u["mis_id"]: u["active"] for u in world.users_raw()}
    assert active.pop("S000002") is False
    assert all(active.values())
    _assert_counts_equal_lines(world, res.run_id, res.counts)
    assert _seen_rows(world) == 0  # the notes end with the run


def test_a_deactivated_user_whose_record_returns_is_restored(world) -> None:
    first_sync(world)
    world.fake.remove_person(Role.STUDENT, "S000005")
    service.start_run(world.rt, NAME, kind="reconcile")
    world.clock.advance(hours=1)
    world.fake.restore_person(Role.STUDENT, "S000005")
    res = service.start_run(world.rt, NAME, kind="reconcile")
    assert nonzero(res.counts) == {"unchanged": 14, "restored": 1}
    assert all(u["active"] for u in world.users_raw())


def test_a_mapping_change_clears_the_digests(world) -> None:
    first_sync(world)
    mapping: dict[str, Any] = {
        **MAPPING,
        "students": {
            **MAPPING["students"],
            "fields": {"first_name": "first_name", "last_name": "last_name"},
        },
    }
    with world.engine.begin() as conn:
        mapping_rules.save_mapping(
            conn, world.rt.env, NAME, mapping, actor="test", confirm_reimport=True
        )
    assert set(_hashes(world).values()) == {None}


def first_sync_with_an_edit(world: World, students: int) -> None:
    """A first sync of ``students`` in which S000001 (no surname) is fixed by an edit."""
    world.add(Role.STUDENT, students)
    world.fake.update_person(Role.STUDENT, "S000001", last_name="")
    service.start_run(world.rt, NAME)
    with world.engine.begin() as conn:
        review.edit(conn, NAME, "S000001", {"last_name": "Fixed"}, actor="test")
    service.confirm(world.rt, NAME)


def test_an_edited_record_is_checked_in_full_once_then_fast_again(world: World) -> None:
    first_sync_with_an_edit(world, students=6)
    assert _hashes(world)["S000001"] is None  # an admin's edit: not vouched for by a digest
    world.clock.advance(hours=1)
    service.plan(world.rt, NAME, full=True)
    assert _staged_ids(world) == {"S000001"}
    world.clock.advance(hours=1)
    res = service.start_run(world.rt, NAME, kind="reconcile")
    assert nonzero(res.counts) == {"unchanged": 6}
    assert _hashes(world)["S000001"] is not None  # settled: the next run is fast for it
    world.clock.advance(hours=1)
    service.plan(world.rt, NAME, full=True)
    assert _staged_ids(world) == set()


def _scenario(world: World) -> list[Any]:
    """First sync, then a run after each kind of change; the counts of every run and
    the error list after it."""
    world.add(Role.STUDENT, 14)
    world.add(Role.STAFF, 5)
    out = []
    service.start_run(world.rt, NAME)
    out.append(nonzero(service.confirm(world.rt, NAME).counts))
    steps = [
        lambda: None,
        lambda: world.fake.update_person(Role.STUDENT, "S000003", first_name="Renamed"),
        lambda: world.fake.remove_person(Role.STUDENT, "S000007"),
        lambda: world.fake.restore_person(Role.STUDENT, "S000007"),
        lambda: world.fake.update_person(Role.STAFF, "T000002", emails={"primary": "bad"}),
        lambda: world.fake.update_person(Role.STAFF, "T000002", emails={"primary": "ok@x.org"}),
    ]
    for step in steps:
        world.clock.advance(hours=1)
        step()
        for full in (False, True):
            res = service.start_run(world.rt, NAME, full=full)
            if res.status == "on_hold":
                res = service.approve(world.rt, NAME)
            out.append(nonzero(res.counts))
            out.append([(r["mis_id"], r["issues"]) for r in world.staged("error")])
            _assert_counts_equal_lines(world, res.run_id, res.counts)
    return out


def _directory(world: World) -> list[tuple[Any, ...]]:
    return [
        (u["mis_id"], u["first_name"], u["last_name"], u["email"], u["active"], u["user_type"])
        for u in world.directory()
    ]


def test_fast_and_full_checks_reach_the_same_directory(tmp_path) -> None:
    from connectkit.store.engine import make_engine
    from connectkit.store.tables import metadata

    results = []
    for fast in (True, False):
        engine = make_engine(f"sqlite:///{tmp_path / f'store-{fast}.sqlite'}")
        metadata.create_all(engine)
        world = build_world(engine, tmp_path / f"state-{fast}")
        world.rt = world.runtime(skip_unchanged=fast)
        results.append((_scenario(world), _directory(world)))
        engine.dispose()
    assert results[0] == results[1]
