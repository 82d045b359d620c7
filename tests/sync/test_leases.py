"""One run per integration (R9.2): leases, fencing, take-over after a dead worker."""

from __future__ import annotations

import pytest

from connectkit.errors import LeaseHeldError, UpstreamUnavailableError
from connectkit.models import Role
from connectkit.sync import runs, service

from .conftest import NAME


def test_a_failed_run_keeps_its_checkpoint_and_continue_finishes_it(world) -> None:
    world.add(Role.STUDENT, 30)
    world.fake.fail("fetch_people", UpstreamUnavailableError("MIS down"), page=3)
    with pytest.raises(UpstreamUnavailableError):
        service.start_run(world.rt, NAME)
    assert world.status() == ("draft", "failing")
    staged_before = len(world.staged())
    assert staged_before == 14  # two pages of 7 were checkpointed
    res = service.continue_run(world.rt, NAME)
    assert res.status == "awaiting_review"
    assert res.ready == 30
    students = [c.args for c in world.fake.calls("fetch_people") if c.args["role"] == "student"]
    assert [c["cursor"] is None for c in students] == [True, False]  # resumed mid-way
    res = service.confirm(world.rt, NAME)
    assert res.counts["created"] == 30
    assert world.status() == ("active", "ok")


def test_live_lease_blocks_a_second_worker_and_expiry_lets_it_take_over(world) -> None:
    world.add(Role.STUDENT, 10)
    world.fake.fail("fetch_people", UpstreamUnavailableError("MIS down"), page=2)
    other = world.runtime(worker="w2")
    with pytest.raises(UpstreamUnavailableError):
        service.start_run(world.rt, NAME)
    run_id = service.logs(world.rt, NAME)[0]["run"]
    # simulate a worker that died holding the lease (SIGKILL: no release)
    with world.engine.begin() as conn:
        runs.acquire(conn, run_id, worker="w1", now=world.clock(), lease_seconds=60)
    with pytest.raises(LeaseHeldError, match="w1"):
        service.continue_run(other, NAME)
    with pytest.raises(LeaseHeldError):
        service.start_run(other, NAME)
    world.clock.advance(seconds=61)
    res = service.continue_run(other, NAME)
    assert res.status == "awaiting_review"
    assert res.ready == 10
    # the dead worker, were it to wake up, is fenced off its own run
    with world.engine.begin() as conn, pytest.raises(LeaseHeldError):
        runs.save(conn, run_id, worker="w1", now=world.clock(), lease_seconds=60, phase="x")
    with world.engine.connect() as conn:
        assert runs.load(conn, run_id).phase == "review"


def test_acquire_is_atomic_between_two_workers(world) -> None:
    world.add(Role.STUDENT, 3)
    service.start_run(world.rt, NAME)
    run_id = service.logs(world.rt, NAME)[0]["run"]
    now = world.clock()
    with world.engine.begin() as conn:
        runs.acquire(conn, run_id, worker="a", now=now, lease_seconds=30)
    with world.engine.begin() as conn, pytest.raises(LeaseHeldError):
        runs.acquire(conn, run_id, worker="b", now=now, lease_seconds=30)
    with world.engine.begin() as conn:
        runs.acquire(conn, run_id, worker="a", now=now, lease_seconds=30)  # renew: fine
        runs.release(conn, run_id, worker="a")
    with world.engine.begin() as conn:
        runs.acquire(conn, run_id, worker="b", now=now, lease_seconds=30)


def test_an_interrupted_ongoing_run_is_superseded_by_a_new_one(world) -> None:
    world.add(Role.STUDENT, 10)
    service.start_run(world.rt, NAME)
    service.confirm(world.rt, NAME)
    world.clock.advance(hours=1)
    world.fake.fail("fetch_people", UpstreamUnavailableError("down"), page=1)
    with pytest.raises(UpstreamUnavailableError):
        service.start_run(world.rt, NAME)
    res = service.start_run(world.rt, NAME)
    assert res.status == "committed"
    assert res.counts["unchanged"] == 10
    statuses = [r["status"] for r in service.logs(world.rt, NAME)]
    assert statuses == ["committed", "abandoned", "committed"]


def test_two_workers_starting_at_once_make_exactly_one_run(world) -> None:
    import threading

    from connectkit.errors import StateError

    world.add(Role.STUDENT, 30)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def go(worker: str) -> None:
        rt = world.runtime(worker=worker)
        barrier.wait()
        try:
            outcomes.append(service.start_run(rt, NAME).status)
        except (LeaseHeldError, StateError) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=go, args=(f"t{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes)[0] in ("LeaseHeldError", "StateError")
    assert "awaiting_review" in outcomes
    assert len(service.logs(world.rt, NAME)) == 1
    assert len(world.staged()) == 30
