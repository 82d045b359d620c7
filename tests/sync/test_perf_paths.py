"""The engine's fast paths agree with the plain ones: compiled field resolvers give what
``mapper.resolve`` gives, and keyset-paged plan / commit reads cover every record exactly
once, in order, however small the pages and batches are (behavioural, not timed)."""

from __future__ import annotations

from datetime import date

import pytest

from connectkit.models import GroupKind, GroupMembership, MISPerson, Role
from connectkit.sync import commit as commit_module
from connectkit.sync import plan as plan_module
from connectkit.sync import service
from connectkit.sync.mapper import PopulationMap, _text, resolve

from .conftest import NAME, World
from .test_first_sync import _assert_counts_equal_lines

PATHS = {
    "first_name": "first_name",
    "emails.primary": "email",
    "contact_details.phones.mobile": "phone",
    "date_of_birth": "last_name",
}


def _person(**changes: object) -> MISPerson:
    values: dict[str, object] = {
        "mis_id": "S1",
        "role": Role.STUDENT,
        "first_name": "Ada",
        "emails": {"primary": "ada@example.org"},
        "date_of_birth": date(2012, 5, 1),
        "groups": (
            GroupMembership(group_id="yr-1", kind=GroupKind.YEAR),
            GroupMembership(group_id="yr-9", kind=GroupKind.YEAR),
        ),
        "extras": {"contact_details": {"phones": {"mobile": "07911 123456"}}},
    }
    values.update(changes)
    return MISPerson.model_validate(values)


@pytest.mark.parametrize(
    "person",
    [
        _person(),
        _person(first_name="   ", emails={}, date_of_birth=None, extras={}),
        _person(extras={"contact_details": "not a mapping"}),
        _person(extras={"contact_details": {"phones": {"mobile": ["a", "list"]}}}),
        _person(extras={"contact_details": {"phones": {"mobile": 7911123456}}}),
    ],
)
def test_compiled_resolvers_agree_with_resolve(person: MISPerson) -> None:
    population = PopulationMap(
        Role.STUDENT, {"fields": PATHS, "groups": {"yr-1": "Student", "yr-2": "Student"}}
    )
    mapped = population.apply(person)
    expected = {name: None for name in ("first_name", "last_name", "email", "phone")}
    for path, target in PATHS.items():
        expected[target] = _text(resolve(person, tuple(path.split("."))))
    assert mapped.fields == expected
    assert list(mapped.fields) == ["first_name", "last_name", "email", "phone"]
    assert mapped.user_types == ("Student",)
    assert mapped.groups == ("yr-1",)


def test_groups_mapping_to_different_types_stay_ambiguous() -> None:
    population = PopulationMap(
        Role.STUDENT, {"fields": PATHS, "groups": {"yr-1": "Student", "yr-9": "Sixth Form"}}
    )
    mapped = population.apply(_person())
    assert mapped.user_types == ("Sixth Form", "Student")
    assert mapped.groups == ("yr-1", "yr-9")


def test_tiny_plan_chunks_and_commit_batches_cover_every_record_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan_module, "CHUNK", 3)
    world.rt = world.runtime(batch=2)
    world.add(Role.STUDENT, 11)
    world.add(Role.STAFF, 4)
    service.start_run(world.rt, NAME)
    planned = world.staged("ready")
    res = service.confirm(world.rt, NAME)
    assert res.status == "committed"
    lines = world.lines(res.run_id)
    assert [ln["mis_id"] for ln in lines] == [r["mis_id"] for r in planned]
    assert {ln["outcome"] for ln in lines} == {"ok"}
    assert res.counts["created"] == len(planned) == len(world.users_raw())
    _assert_counts_equal_lines(world, res.run_id, res.counts)

    world.clock.advance(hours=1)
    for mis_id in ("S000001", "S000004", "S000005", "S000009"):
        world.fake.remove_person(Role.STUDENT, mis_id)
    world.settings(guard={"max_deletions": 100, "max_deletion_percent": 100})
    again = service.start_run(world.rt, NAME, kind="reconcile", full=True)
    assert again.status == "committed", again
    assert again.counts["deactivated"] == 4
    assert again.counts["unchanged"] == len(planned) - 4
    removed = {ln["mis_id"] for ln in world.lines(again.run_id) if ln["action"] == "deactivate"}
    assert removed == {"S000001", "S000004", "S000005", "S000009"}
    _assert_counts_equal_lines(world, again.run_id, again.counts)


def test_next_lines_pages_in_id_order_and_skips_done_lines(world: World) -> None:
    world.add(Role.STUDENT, 6)
    run = service.start_run(world.rt, NAME)
    assert run.status == "awaiting_review"
    ids = [ln["id"] for ln in world.lines(run.run_id)]
    with world.engine.connect() as conn:
        first = commit_module._next_lines(conn, run.run_id, 0, 4)
        rest = commit_module._next_lines(conn, run.run_id, first[-1]["id"], 4)
    assert len(ids) == 6
    assert [ln["id"] for ln in first + rest] == ids
    # plain creates carry staging's keys: the database executes them from their own
    # detail, so it is not read into Python
    assert all(ln["carried"] and ln["detail"] is None for ln in first + rest)


def test_results_read_saved_counts_that_equal_the_runs_lines(world: World) -> None:
    """A result's counts come from the run's lines only mid-commit: before its commit
    phase they are zero, once committed they are the counts saved with the status. Both
    must equal what the lines say, at every stop of a run."""
    from connectkit.sync.results import executed_counts

    def agrees(run_id: int, counts: dict[str, int]) -> None:
        with world.engine.connect() as conn:
            assert counts == executed_counts(conn, run_id)

    world.add(Role.STUDENT, 8)
    first = service.start_run(world.rt, NAME)
    assert first.status == "awaiting_review"
    agrees(first.run_id, first.counts)
    done = service.confirm(world.rt, NAME)
    assert (done.status, done.counts["created"]) == ("committed", 8)
    agrees(done.run_id, done.counts)
    world.fake.update_person(Role.STUDENT, "S000004", last_name="Dry")
    dry = service.plan(world.rt, NAME)
    assert (dry.status, dry.planned.get("update")) == ("planned", 1)
    agrees(dry.run_id, dry.counts)
    world.settings(guard={"max_deletions": 1, "max_deletion_percent": 5})
    for i in range(3):
        world.fake.remove_person(Role.STUDENT, f"S{i:06d}")
    held = service.start_run(world.rt, NAME, full=True)
    assert held.status == "on_hold"
    agrees(held.run_id, held.counts)
    approved = service.approve(world.rt, NAME)
    assert approved.counts["deactivated"] == 3
    agrees(approved.run_id, approved.counts)


def _in_database_file(path: object) -> int:
    """Staged rows the SQLite database file itself holds (``immutable``: pages still only
    in the write-ahead log are not read)."""
    import sqlite3

    raw = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(raw.execute("SELECT count(*) FROM staged_records").fetchone()[0])
    finally:
        raw.close()


def _staged_rows_in_file_after_first_import(tmp_path, monkeypatch, threshold: int) -> int:
    from connectkit.store.engine import checkpoint, make_engine
    from connectkit.store.tables import metadata
    from connectkit.sync import driver

    from .conftest import build_world

    path = tmp_path / f"store-{threshold}.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    world = build_world(engine, tmp_path / f"state-{threshold}")
    checkpoint(engine)  # the schema is in the file
    try:
        world.add(Role.STUDENT, 12)
        monkeypatch.setattr(driver, "CHECKPOINT_LINES", threshold)
        res = service.start_run(world.rt, NAME)
        assert (res.status, res.ready) == ("awaiting_review", 12)  # a plan of 12 lines
        return _in_database_file(path)
    finally:
        engine.dispose()


def test_a_large_run_leaves_its_writes_checkpointed(tmp_path, monkeypatch) -> None:
    """A run of at least CHECKPOINT_LINES lines copies its pages into the database file
    when it stops; a smaller one leaves them in the write-ahead log for SQLite."""
    assert _staged_rows_in_file_after_first_import(tmp_path, monkeypatch, 12) == 12
    assert _staged_rows_in_file_after_first_import(tmp_path, monkeypatch, 13) == 0


def test_a_batch_ends_after_its_share_of_lines_with_details(world: World) -> None:
    """Lines that come with their detail (updates here) end a batch at ``details``;
    the next batch starts right after, so every line is still read once, in order."""
    from .test_ongoing import first_sync

    first_sync(world, students=8, staff=0)
    for i in (1, 3, 4, 6):
        world.fake.update_person(Role.STUDENT, f"S00000{i}", last_name=f"Moved{i}")
    dry = service.plan(world.rt, NAME, full=True)  # 4 updates, 4 unchanged, all planned
    ids = [ln["id"] for ln in world.lines(dry.run_id)]
    batches = []
    with world.engine.connect() as conn:
        after = 0
        while batch := commit_module._next_lines(conn, dry.run_id, after, 100, details=3):
            batches.append(batch)
            after = batch[-1]["id"]
    assert [ln["id"] for batch in batches for ln in batch] == ids
    with_detail = [sum(ln["detail"] is not None for ln in batch) for batch in batches]
    assert with_detail == [3, 1]
    assert batches[0][-1]["action"] == "update"  # the third update closed the first batch
