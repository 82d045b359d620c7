"""The mass-change guard (item 6): held runs write nothing until approved or rejected."""

from __future__ import annotations

import pytest

from connectkit.errors import StateError
from connectkit.models import Role
from connectkit.sync import service

from .conftest import NAME
from .test_ongoing import first_sync


def test_mass_deactivation_is_held_then_approved(world) -> None:
    world.settings(guard={"max_deletions": 3, "max_deletion_percent": 20})
    first_sync(world, students=20, staff=0)
    for i in range(5):  # 5 of 17 "Student" users leave: over 3 AND over 20 %
        world.fake.remove_person(Role.STUDENT, f"S{i:06d}")
    before = world.users_raw()
    res = service.start_run(world.rt, NAME)
    assert res.status == "on_hold"
    assert res.held
    assert "5 of 17 'Student'" in res.held[0]
    assert world.users_raw() == before
    assert world.status() == ("active", "on_hold")
    with pytest.raises(StateError, match="on hold"):
        service.start_run(world.rt, NAME)
    res = service.approve(world.rt, NAME, res.run_id)
    assert res.status == "committed"
    assert res.counts["deactivated"] == 5
    assert world.status() == ("active", "ok")
    assert sum(not u["active"] for u in world.users_raw()) == 5


def test_under_either_threshold_is_not_held(world) -> None:
    world.settings(guard={"max_deletions": 3, "max_deletion_percent": 50})
    first_sync(world, students=20, staff=0)
    for i in range(5):  # over the count but only 25 %: not held
        world.fake.remove_person(Role.STUDENT, f"S{i:06d}")
    res = service.start_run(world.rt, NAME)
    assert res.status == "committed"
    assert res.counts["deactivated"] == 5


def test_source_returning_nobody_is_held_and_rejected(world) -> None:
    first_sync(world, students=10, staff=0)
    for i in range(10):
        world.fake.people[Role.STUDENT].pop(f"S{i:06d}")  # silently gone: no deletions feed
    before = world.users_raw()
    res = service.start_run(world.rt, NAME, full=True)
    assert res.status == "on_hold"
    assert any("returned 0 people" in reason for reason in res.held)
    res = service.reject(world.rt, NAME)
    assert res.status == "rejected"
    assert res.counts["deactivated"] == 0
    assert world.users_raw() == before
    assert world.status() == ("active", "ok")
    with pytest.raises(StateError, match="no run to approve"):
        service.approve(world.rt, NAME)
