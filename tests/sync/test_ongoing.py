"""Ongoing runs (R4.1, R4.3, R4.5, R4.7): update in place, unchanged = no writes,
deletion policies, restore, incremental vs full reconciliation, skips remembered."""

from __future__ import annotations

import pytest

from connectkit.models import Capabilities, Role
from connectkit.sync import review, service

from .conftest import NAME, World, build_world, only
from .test_first_sync import _assert_counts_equal_lines, person


def first_sync(world: World, students: int = 12, staff: int = 4) -> None:
    world.add(Role.STUDENT, students)
    world.add(Role.STAFF, staff)
    service.start_run(world.rt, NAME)
    service.confirm(world.rt, NAME)
    world.clock.advance(hours=1)


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


def test_unchanged_rerun_writes_nothing(world) -> None:
    first_sync(world)
    before = world.users_raw()
    for kind, full in (("manual", False), ("scheduled", False), ("reconcile", True)):
        res = service.start_run(world.rt, NAME, kind=kind, full=full)
        assert res.status == "committed"
        assert set(nonzero(res.counts)) <= {"unchanged"}, res.counts
        assert world.users_raw() == before  # not even updated_at moved
        world.clock.advance(hours=1)


def test_later_run_updates_the_same_user_in_place_with_a_diff(world) -> None:
    first_sync(world)
    user = only([u for u in world.users_raw() if u["mis_id"] == "S000003"])
    world.fake.update_person(Role.STUDENT, "S000003", last_name="Renamed",
                             emails={"primary": "NEW@x.org"})
    res = service.start_run(world.rt, NAME)
    assert res.counts["updated"] == 1
    assert res.counts["created"] == 0
    line = only([ln for ln in world.lines(res.run_id) if ln["action"] == "update"])
    assert line["user_id"] == user["id"]
    assert line["detail"]["diff"]["last_name"] == [user["last_name"], "Renamed"]
    old_email, new_email = line["detail"]["diff"]["email"]
    assert old_email == user["email"]
    assert new_email.lower() == "new@x.org"
    after = only([u for u in world.users_raw() if u["mis_id"] == "S000003"])
    assert after["id"] == user["id"]
    assert after["last_name"] == "Renamed"
    assert after["email"].lower() == "new@x.org"
    assert after["name_key"].endswith("renamed")
    assert after["email_key"] == "new@x.org"
    assert len(world.users_raw()) == 15  # 12 students + 3 mapped staff
    _assert_counts_equal_lines(world, res.run_id, res.counts)


def test_incremental_run_asks_for_changes_since_the_last_run(world) -> None:
    first_sync(world)
    world.fake.history.clear()
    service.start_run(world.rt, NAME)
    fetches = world.fake.calls("fetch_people")
    assert fetches
    assert all(c.args["since"] is not None for c in fetches)
    world.fake.history.clear()
    service.start_run(world.rt, NAME, full=True)
    assert all(c.args["since"] is None for c in world.fake.calls("fetch_people"))
    assert world.fake.calls("fetch_deletions") == []  # a full run reconciles by absence


@pytest.mark.parametrize("policy", ["deactivate", "delete", "keep"])
def test_deletion_policy_on_full_reconciliation(world, policy: str) -> None:
    world.settings(deletion=policy)
    first_sync(world)
    world.fake.remove_person(Role.STUDENT, "S000002")
    res = service.start_run(world.rt, NAME, kind="reconcile")
    gone = [u for u in world.users_raw() if u["mis_id"] == "S000002"]
    if policy == "deactivate":
        assert res.counts["deactivated"] == 1
        assert only(gone)["active"] is False
    elif policy == "delete":
        assert res.counts["deleted"] == 1
        assert gone == []
    else:
        assert res.counts["deactivated"] == res.counts["deleted"] == 0
        assert only(gone)["active"] is True
    _assert_counts_equal_lines(world, res.run_id, res.counts)


def test_deletions_feed_and_restore_on_incremental_runs(world) -> None:
    first_sync(world)
    world.fake.remove_person(Role.STAFF, "T000001")
    res = service.start_run(world.rt, NAME)
    assert res.counts["deactivated"] == 1
    assert world.fake.calls("fetch_deletions")
    world.clock.advance(hours=1)
    world.fake.restore_person(Role.STAFF, "T000001")
    res = service.start_run(world.rt, NAME)
    assert res.counts["restored"] == 1
    user = only([u for u in world.users_raw() if u["mis_id"] == "T000001"])
    assert user["active"] is True
    assert len(world.users_raw()) == 15  # 12 students + 3 mapped staff


def test_member_of_no_mapped_group_any_more_is_removed_by_reconciliation(world) -> None:
    first_sync(world)
    world.fake.update_person(Role.STUDENT, "S000001", groups=())
    res = service.start_run(world.rt, NAME, full=True)
    assert res.counts["deactivated"] == 1


def test_after_first_sync_clean_records_commit_and_issues_wait(world) -> None:
    first_sync(world)
    world.add_directory_user("Zed", "Dup", email="zed@x.org")
    world.fake.add_people(Role.STUDENT, [person("N1", "New", "Kid", "new@x.org"),
                                         person("N2", "", "Broken", "b@x.org"),
                                         person("N3", "Zed", "Dup", "zed@x.org")])
    res = service.start_run(world.rt, NAME)
    assert res.status == "committed"
    assert res.counts["created"] == 1
    assert (res.errors, res.duplicates) == (1, 1)
    assert world.status() == ("active", "ok")
    # the admin fixes the error between runs; the next run commits it
    with world.engine.begin() as conn:
        review.edit(conn, NAME, "N2", {"first_name": "Fixed"}, actor="admin")
        review.skip(conn, NAME, "N3", actor="admin")
    world.clock.advance(hours=1)
    res = service.start_run(world.rt, NAME)
    assert res.counts["created"] == 1
    assert res.counts["skipped"] == 1
    assert "N2" in {u["mis_id"] for u in world.users_raw()}
    assert "N3" not in {u["mis_id"] for u in world.users_raw()}
    # the skip is remembered on later full runs
    world.clock.advance(hours=1)
    res = service.start_run(world.rt, NAME, full=True)
    assert res.counts["skipped"] == 1
    assert res.counts["created"] == 0


def test_a_connector_without_delta_always_reconciles(sync_engine, tmp_path) -> None:
    world = build_world(sync_engine, tmp_path / "s", capabilities=Capabilities())
    first_sync(world)
    world.fake.history.clear()
    res = service.start_run(world.rt, NAME)
    assert all(c.args["since"] is None for c in world.fake.calls("fetch_people"))
    assert res.counts["unchanged"] == 15


def test_dry_run_plan_writes_nothing_to_the_directory(world) -> None:
    first_sync(world)
    world.fake.update_person(Role.STUDENT, "S000004", first_name="Changed")
    world.fake.remove_person(Role.STUDENT, "S000005")
    before = world.users_raw()
    res = service.plan(world.rt, NAME, full=True)
    assert res.status == "planned"
    assert res.planned["update"] == 1
    assert res.planned["deactivate"] == 1
    assert world.users_raw() == before
    lines = list(service.log_lines(world.rt, res.run_id))
    update = only([ln for ln in lines if ln["action"] == "update"])
    assert update["outcome"] == "planned"
    assert update["detail"]["diff"]["first_name"][1] == "Changed"
    real = service.start_run(world.rt, NAME, full=True)
    assert real.counts["updated"] == 1
    assert real.counts["deactivated"] == 1


@pytest.mark.parametrize("full", [True, False])
def test_same_person_under_a_new_mis_id_moves_the_same_user(world, full: bool) -> None:
    first_sync(world, students=6, staff=0)
    old = world.fake.people[Role.STUDENT]["S000001"]
    user = only([u for u in world.users_raw() if u["mis_id"] == "S000001"])
    world.fake.remove_person(Role.STUDENT, "S000001")
    world.fake.add_people(Role.STUDENT, [old.model_copy(update={
        "mis_id": "S999999", "updated_at": world.clock()})])
    res = service.start_run(world.rt, NAME, full=full)
    assert res.counts["updated"] == 1
    assert res.counts["created"] == 0
    assert res.counts["deactivated"] == 0
    moved = only([u for u in world.users_raw() if u["person_id"] == old.person_id])
    assert (moved["id"], moved["mis_id"], moved["active"]) == (user["id"], "S999999", True)
    line = only([ln for ln in world.lines(res.run_id) if ln["action"] == "update"])
    assert line["detail"]["diff"]["mis_id"] == ["S000001", "S999999"]
