"""Run rules around the integration's status, failed lines, and hooks."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from connectkit import integrations as lifecycle
from connectkit.errors import StateError
from connectkit.models import Role
from connectkit.store.tables import integrations, users
from connectkit.sync import service

from .conftest import NAME
from .test_first_sync import _assert_counts_equal_lines, person
from .test_ongoing import first_sync


def test_pending_refuses_and_deactivated_refuses_only_scheduled_runs(world) -> None:
    with world.engine.begin() as conn:
        conn.execute(sa.update(integrations).values(status="pending"))
    with pytest.raises(StateError, match="pending"):
        service.start_run(world.rt, NAME)
    with world.engine.begin() as conn:
        conn.execute(sa.update(integrations).values(status="ready"))
    first_sync(world, students=5, staff=0)
    with world.engine.begin() as conn:
        lifecycle.transition(conn, world.integration_id, lifecycle.Status.DEACTIVATED,
                             cause="test", actor="test")
    with pytest.raises(StateError, match="scheduled runs are off"):
        service.start_run(world.rt, NAME, kind="scheduled")
    assert service.start_run(world.rt, NAME, kind="manual").status == "committed"


def test_a_line_that_fails_is_counted_failed_and_the_rest_commit(world) -> None:
    world.settings(guard={"max_deletions": 1, "max_deletion_percent": 5})
    first_sync(world, students=10, staff=0)
    for i in range(3):
        world.fake.remove_person(Role.STUDENT, f"S{i:06d}")
    world.fake.add_people(Role.STUDENT, [person("N1", "New", "One", "n1@x.org"),
                                         person("N2", "New", "Two", "n2@x.org")])
    held = service.start_run(world.rt, NAME)
    assert held.status == "on_hold"
    assert held.planned["create"] == 2
    # between plan and approval someone links a user to N1 by hand: its create must fail
    with world.engine.begin() as conn:
        conn.execute(sa.insert(users).values(
            first_name="Hand", last_name="Made", active=True, mis_id="N1",
            integration_id=world.integration_id, created_at=world.clock(),
            updated_at=world.clock()))
    res = service.approve(world.rt, NAME)
    assert res.status == "committed"
    assert res.counts["failed"] == 1
    assert res.counts["created"] == 1
    assert res.counts["deactivated"] == 3
    failed = [ln for ln in world.lines(res.run_id) if ln["outcome"] == "failed"]
    assert [ln["mis_id"] for ln in failed] == ["N1"]
    assert "error" in failed[0]["detail"]
    _assert_counts_equal_lines(world, res.run_id, res.counts)
